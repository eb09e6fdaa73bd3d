// A log of what the outbox does, newest first, from the status element's events. Attempts
// of one write that keep failing the same way fold into one line with a count, so that a
// minute offline is one line, not sixty.
const log = document.querySelector('#log');
const KEEP = 50;

document.addEventListener('outbox-change', ({ detail: message }) => {
  const entry = message.entry;
  // Ids are UUIDs: their first 8 characters tell them apart here.
  const what = entry ? `${entry.method} ${new URL(entry.url).pathname.replace(/([0-9a-f]{8})-[0-9a-f-]{27}/g, '$1…')}` : '';
  const why = message.type === 'sent' ? `→ ${message.status}` : message.type === 'retry-scheduled' ? `(${message.error}); next retry at ${new Date(message.retryAt).toLocaleTimeString()}` : message.type === 'dead-lettered' ? `(${message.reason})` : message.type === 'storage-full' ? `(${message.error})` : message.type === 'folded' ? `into #${message.into}` : message.type === 'conflict' ? `(HTTP ${entry.conflict?.status}: waits for your choice)` : message.type === 'resolved' ? `(kept ${message.how === 'theirs' ? 'theirs' : message.how === 'mine' ? 'mine' : 'a merge'})` : '';

  // A retry of the write the newest retry line is about, failing as before: count it there.
  const top = log.firstElementChild;
  const sameRetry = (item) => item?.classList.contains('retry-scheduled') && item.dataset.entry === String(entry?.id) && item.dataset.error === message.error;
  if (message.type === 'sending' && top?.classList.contains('retry-scheduled') && top.dataset.entry === String(entry?.id)) return; // shown if it fails otherwise, or succeeds
  if (message.type === 'retry-scheduled' && sameRetry(top)) {
    top.dataset.count = String(Number(top.dataset.count) + 1);
    top.querySelector('time').textContent = new Date(message.at).toLocaleTimeString();
    top.querySelector('span').textContent = `${what} ${why} · ${top.dataset.count} attempts`;
    return;
  }

  const item = document.createElement('li');
  item.className = message.type;
  item.dataset.entry = String(entry?.id ?? '');
  item.dataset.error = message.error ?? '';
  item.dataset.count = '1';
  item.innerHTML = '<time></time> <b></b> <span></span>';
  item.querySelector('time').textContent = new Date(message.at).toLocaleTimeString();
  item.querySelector('b').textContent = message.type;
  item.querySelector('span').textContent = `${what} ${why}`.trim();
  log.prepend(item);
  while (log.children.length > KEEP) log.lastElementChild.remove();
});
