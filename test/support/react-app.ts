import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { useOutbox } from '../../client/react.js';

/** A small React view of the outbox, as an app would write one with useOutbox(). */
function Outbox() {
  const { ready, counts, conflicts, deadLetters, retry, discard, resolve } = useOutbox();
  if (!ready) return h('p', { role: 'status' }, 'Reading the outbox…');
  return h(
    'section',
    null,
    h('p', { role: 'status' }, `${counts.pending} waiting, ${counts.deadLetters} need a decision, ${counts.conflicts} in conflict`),
    h(
      'ul',
      null,
      conflicts.map((entry) =>
        h('li', { key: entry.id }, `${entry.method} ${new URL(entry.url).pathname} clashed (${entry.conflict?.status}) `, h('button', { onClick: () => void resolve(entry.id, { keep: 'mine' }) }, 'Keep mine'), h('button', { onClick: () => void resolve(entry.id, { keep: 'theirs' }) }, 'Keep theirs')),
      ),
      deadLetters.map((entry) =>
        h('li', { key: entry.id }, `${entry.method} ${new URL(entry.url).pathname} got ${entry.lastStatus} `, h('button', { onClick: () => void retry(entry.id) }, 'Retry'), h('button', { onClick: () => void discard(entry.id) }, 'Discard')),
      ),
    ),
  );
}

export function mount(element: Element): void {
  createRoot(element).render(h(Outbox));
}
