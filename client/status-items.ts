/** The rows of `<outbox-status>`'s panel: a dead letter, a conflict's two sides, and their buttons. */
import type { ConflictDetails, EntryMeta } from '../sw/protocol.js';

/** A dead letter: what it was, what the server said (its problem+json when it sent one), and its code. */
export function deadLetterItem(entry: EntryMeta): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.id = String(entry.id);
  const what = document.createElement('span');
  what.className = 'what';
  const write = `${entry.method} ${shortPath(entry.url)}`;
  what.textContent = `${write} — ${entry.problem?.title ?? entry.deadReason ?? 'refused'} `;
  what.title = `${entry.method} ${entry.url}`;
  const code = document.createElement('code');
  code.textContent = entry.deadCode ?? 'rejected';
  what.append(code);
  const why = entry.problem?.detail ?? (entry.problem?.title ? entry.deadReason : undefined);
  if (why) {
    const line = document.createElement('span');
    line.className = 'why';
    line.textContent = why;
    what.append(line);
  }
  // A write whose device key was revoked can never be read again: retrying it would only fail the same way.
  if (entry.deadCode !== 'undecryptable') item.append(what, button('Retry', 'retry', `Retry ${write}`));
  else item.append(what);
  item.append(button('Discard', 'discard', `Discard ${write}`));
  return item;
}

/**
 * "Yours" and "theirs" for what differs: the members the server named as clashing, else
 * every member of the write's JSON body that differs from the server's; the whole values
 * when they are not objects.
 */
export function sideRows({ ours, theirs }: ConflictDetails): HTMLElement[] {
  const rows: HTMLElement[] = [];
  const row = (label: string, value: unknown) => {
    const term = document.createElement('dt');
    term.textContent = label;
    const text = document.createElement('dd');
    text.textContent = value === undefined ? '(not known)' : shown(value);
    rows.push(term, text);
  };
  if (isObject(ours) && isObject(theirs)) {
    for (const member of Object.keys(ours).filter((name) => JSON.stringify(ours[name]) !== JSON.stringify(theirs[name]))) {
      row(`${member}, yours`, ours[member]);
      row(`${member}, theirs`, theirs[member]);
    }
  } else {
    row('Yours', ours);
    row('Theirs', theirs);
  }
  return rows;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? `“${value}”` : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** A URL's path with long ids shortened (`/api/lists/c9e45693…/items`): the full URL is in the title. */
export function shortPath(url: string): string {
  return new URL(url).pathname.replace(/[0-9a-f-]{20,}/gi, (id) => `${id.slice(0, 8)}…`);
}

export function button(label: string, action: string, description: string): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.title = description;
  element.dataset.action = action;
  return element;
}
