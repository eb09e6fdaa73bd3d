// A log of what the outbox does, newest first, from the status element's events.
const log = document.querySelector('#log');
const KEEP = 50;

document.addEventListener('outbox-change', ({ detail: message }) => {
  const entry = message.entry;
  // Ids are UUIDs: their first 8 characters tell them apart here.
  const what = entry ? `${entry.method} ${new URL(entry.url).pathname.replace(/([0-9a-f]{8})-[0-9a-f-]{27}/g, '$1…')}` : '';
  const why = message.type === 'sent' ? `→ ${message.status}` : message.type === 'retry-scheduled' ? `(${message.error}); retry at ${new Date(message.retryAt).toLocaleTimeString()}` : message.type === 'dead-lettered' ? `(${message.reason})` : message.type === 'storage-full' ? `(${message.error})` : '';
  const item = document.createElement('li');
  item.className = message.type;
  item.innerHTML = '<time></time> <b></b> <span></span>';
  item.querySelector('time').textContent = new Date(message.at).toLocaleTimeString();
  item.querySelector('b').textContent = message.type;
  item.querySelector('span').textContent = `${what} ${why}`.trim();
  log.prepend(item);
  while (log.children.length > KEEP) log.lastElementChild.remove();
});
