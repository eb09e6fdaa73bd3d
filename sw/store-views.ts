/**
 * The store's read-only views, for pages: snapshots and the list of waiting writes. Each
 * is one read-only transaction that never changes a count.
 */
import { isSealed, type Entry, type OpenRequest, type QueuedEntry } from './entry.js';
import { META_KEY, newMeta, type OutboxDb } from './outbox-db.js';
import type { LaneMeta } from './protocol.js';
import type { PendingWrite, Snapshot } from './commands.js';
import { contentTypeOf } from './stored-request.js';
import { countsOf } from './store-changes.js';
import { toMeta, visibleTo } from './transitions.js';

/**
 * What pages may see: exact counts, the first `limit` waiting entries and dead letters,
 * and the first `limit` lanes with their heads. Metadata only: no body is read.
 */
export async function readSnapshot(db: OutboxDb, limit: number, now: number): Promise<Omit<Snapshot, 'storage'>> {
  const tx = db.transaction(['entries', 'meta'], 'readonly');
  const meta = (await tx.objectStore('meta').get(META_KEY)) ?? newMeta();
  const byState = tx.objectStore('entries').index('state');
  const page = async (state: Entry['state']) => {
    const found: Entry[] = [];
    let cursor = await byState.openCursor(IDBKeyRange.bound([state, -Infinity], [state, Infinity]));
    while (cursor && found.length < limit) {
      if (visibleTo(cursor.value, meta.user)) found.push(cursor.value);
      cursor = await cursor.continue();
    }
    return found;
  };
  const [pending, sending, dead, conflicts, needsAuth] = await Promise.all([page('pending'), page('sending'), page('dead'), page('conflict'), page('needs-auth')]);
  const entries = [...pending, ...sending, ...needsAuth].sort((a, b) => a.seq - b.seq).slice(0, limit).map(toMeta);
  const lanes: LaneMeta[] = [];
  const queue = tx.objectStore('entries').index('queue');
  let cursor = await queue.openCursor();
  while (cursor && lanes.length < limit) {
    const head = cursor.value as QueuedEntry;
    const range = IDBKeyRange.bound([head.lane, -Infinity], [head.lane, Infinity]);
    if (visibleTo(head, meta.user)) lanes.push({
      lane: head.lane,
      head: head.id,
      state: head.state,
      waiting: await queue.count(range),
      nextAttemptAt: head.state === 'pending' ? head.nextAttemptAt : null,
      lastError: head.lastError ?? null,
      failingAlone: head.failingAlone === true,
    });
    cursor = await cursor.continue([head.lane, Infinity]);
  }
  await tx.done;
  const waiting = lanes.filter((lane) => lane.nextAttemptAt !== null && lane.nextAttemptAt > now);
  return {
    counts: countsOf(meta),
    entries,
    deadLetters: dead.map(toMeta),
    conflicts: conflicts.map(toMeta),
    lanes,
    nextAttemptAt: waiting.length > 0 ? Math.min(...waiting.map((lane) => lane.nextAttemptAt!)) : null,
    lastError: lanes.find((lane) => lane.lastError !== null)?.lastError ?? null,
  };
}

/**
 * The first `limit` live entries in order (by sequence), with their requests' content
 * types and, if asked, bodies. `mine` marks those `page` made. `open` reads a sealed
 * request after the transaction (undefined: it cannot be now, and the write says `sealed`).
 */
export async function readPending(db: OutboxDb, limit: number, bodies: boolean, page?: string, open: OpenRequest = async (record) => (isSealed(record) ? undefined : record)): Promise<PendingWrite[]> {
  const tx = db.transaction(['entries', 'requests', 'meta'], 'readonly');
  const meta = await tx.objectStore('meta').get(META_KEY);
  const user = meta?.user;
  // Only when other users' writes are among them does the read go past `limit`, to leave those out.
  const others = Object.keys(meta?.byUser ?? {}).some((owner) => owner !== user);
  const byState = tx.objectStore('entries').index('state');
  const inState = (state: Entry['state']) => byState.getAll(IDBKeyRange.bound([state, -Infinity], [state, Infinity]), others ? undefined : limit);
  const live = [...(await inState('pending')), ...(await inState('sending')), ...(await inState('needs-auth'))]
    .filter((entry) => visibleTo(entry, user))
    .sort((a, b) => a.seq - b.seq)
    .slice(0, limit);
  const records = await Promise.all(live.map((entry) => tx.objectStore('requests').get(entry.id)));
  await tx.done;
  return Promise.all(
    live.map(async (entry, index): Promise<PendingWrite> => {
      const record = records[index];
      const request = record && (await open(record));
      const contentType = request ? contentTypeOf(request) : null;
      const write: PendingWrite = { ...toMeta(entry), mine: page !== undefined && entry.madeBy === page, contentType, ...(bodies ? { body: request?.body ?? null } : {}) };
      if (record && !request) write.sealed = true;
      return write;
    }),
  );
}
