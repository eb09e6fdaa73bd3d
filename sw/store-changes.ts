/**
 * How the store persists a transition inside a transaction and keeps the meta record's
 * counts with it. Shared by the store's parts (outbox-store.ts, users.ts, identities'
 * withdrawals); nothing here decides anything: transitions.ts does.
 */
import type { IDBPTransaction } from 'idb';
import type { Entry } from './entry.js';
import { META_KEY, newMeta, type Meta, type OutboxSchema } from './outbox-db.js';
import type { Counts } from './protocol.js';
import type { Transition } from './transitions.js';

export type Tx = IDBPTransaction<OutboxSchema, ('entries' | 'requests' | 'meta' | 'identities')[], 'readwrite'>;

export const ALL = ['entries', 'requests', 'meta', 'identities'] as const;
// Chromium's default since 121, and Workbox's choice: a committed write survives a crash
// of the tab, the worker or the browser; only a power cut may lose the latest ones.
export const DURABILITY = { durability: 'relaxed' } as const;

export async function readMeta(tx: Tx): Promise<Meta> {
  return (await tx.objectStore('meta').get(META_KEY)) ?? newMeta();
}

/** Ends a transaction that must change nothing; its `done` then rejects, which is expected. */
export function abort(tx: Tx): void {
  tx.done.catch(() => {});
  tx.abort();
}

export function laneRange(lane: string): IDBKeyRange {
  return IDBKeyRange.bound([lane, -Infinity], [lane, Infinity]);
}

/**
 * Issues the requests that persist a transition at once, and resolves with what moves
 * the counts, which needs the entry as it was (read in the same transaction, first).
 */
export async function applyLater(tx: Tx, id: number, change: Transition): Promise<(meta: Meta) => void> {
  const read = tx.objectStore('entries').get(id);
  void write(tx, id, change);
  const before = await read;
  return (meta) => recount(meta, before, change);
}

/** Persists a transition of an entry just read in this transaction (a cursor's): no need to read it again. */
export function applyTo(tx: Tx, meta: Meta, before: Entry, change: Transition): void {
  void write(tx, before.id, change);
  recount(meta, before, change);
}

/** Issues the requests that persist a transition; the promise settles with them. */
export function write(tx: Tx, id: number, change: Transition): Promise<unknown> {
  if (change.identity) void tx.objectStore('identities').put(change.identity);
  if (change.entry && change.request) return Promise.all([tx.objectStore('entries').put(change.entry), tx.objectStore('requests').put(change.request, id)]);
  if (change.entry) return tx.objectStore('entries').put(change.entry);
  return Promise.all([tx.objectStore('entries').delete(id), tx.objectStore('requests').delete(id)]);
}

function recount(meta: Meta, before: Entry | undefined, change: Transition): void {
  if (before) bump(meta, before, -1);
  if (change.entry) bump(meta, change.entry, +1);
}

/** Moves the counts (the totals and the entry's user's) by one entry, in its state. */
export function bump(meta: Meta, entry: Entry, by: number): void {
  bumpCounts(meta, entry, by);
  if (entry.user === undefined) return;
  meta.byUser ??= {};
  const theirs = (meta.byUser[entry.user] ??= { pending: 0, deadLetters: 0, conflicts: 0 });
  bumpCounts(theirs, entry, by);
  if (theirs.pending === 0 && theirs.deadLetters === 0 && theirs.conflicts === 0) delete meta.byUser[entry.user];
}

export function bumpCounts(counts: Counts, entry: Entry, by: number): void {
  if (entry.state === 'dead') counts.deadLetters += by;
  else if (entry.state === 'conflict') counts.conflicts += by;
  else counts.pending += by;
}

export function sameMeta(a: Meta | undefined, b: Meta): boolean {
  return a !== undefined && a.user === b.user && JSON.stringify(a.byUser ?? {}) === JSON.stringify(b.byUser ?? {}) && a.clientId === b.clientId && a.lastSeq === b.lastSeq && a.pending === b.pending && a.deadLetters === b.deadLetters && a.conflicts === b.conflicts;
}

/** The counts the signed-in user (or, with none, anyone) may see: all but other users' writes. */
export function countsOf(meta: Meta): Counts {
  const counts = { pending: meta.pending, deadLetters: meta.deadLetters, conflicts: meta.conflicts };
  for (const [user, theirs] of Object.entries(meta.byUser ?? {})) {
    if (user === meta.user) continue;
    counts.pending -= theirs.pending;
    counts.deadLetters -= theirs.deadLetters;
    counts.conflicts -= theirs.conflicts;
  }
  return counts;
}
