import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Draft, LiveEntry, PendingEntry, StoredRequest } from '../../sw/entry.js';
import { OutboxError } from '../../sw/outbox-error.js';
import { OutboxStore } from '../../sw/outbox-store.js';
import { answered, cancelled, deadLetter, discarded, retried, type ClaimRules } from '../../sw/transitions.js';

const ORIGIN = 'https://app.test';
let dbCount = 0;
const freshName = () => `test-${++dbCount}`;
const freshStore = () => new OutboxStore(ORIGIN, freshName());
/** The app's three say-sos, as the outbox makes them: the transition decides (and refuses), the store persists. */
const cancel = (store: OutboxStore, id: number, now: number) => store.update(id, (entry) => cancelled(id, entry, now));
const retry = (store: OutboxStore, id: number, now: number) => store.update(id, (entry, nextSeq) => retried(deadLetter(id, entry), nextSeq, now));
const discard = (store: OutboxStore, id: number) => store.update(id, (entry) => discarded(deadLetter(id, entry)));
/** A record of the `requests` store of database `name`, read straight from IndexedDB as DevTools would. */
async function storedRequest(name: string, id: number): Promise<StoredRequest | undefined> {
  const db = await new Promise<IDBDatabase>((resolve) => (indexedDB.open(name).onsuccess = (event) => resolve((event.target as IDBOpenDBRequest).result)));
  const record = await new Promise<StoredRequest | undefined>((resolve) => (db.transaction('requests').objectStore('requests').get(id).onsuccess = (event) => resolve((event.target as IDBRequest).result)));
  db.close();
  return record;
}
/** Counts reads of records and index keys from now on (fake-indexeddb's own methods), until restored. */
function countReads(): { count: number; restore: () => void } {
  const counter = { count: 0, restore: () => {} };
  const targets = [[IDBObjectStore.prototype, 'get'], [IDBIndex.prototype, 'getKey'], [IDBIndex.prototype, 'get'], [IDBIndex.prototype, 'openCursor']] as const;
  const originals = targets.map(([proto, method]) => {
    const original = (proto as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!;
    (proto as unknown as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
      counter.count += 1;
      return original.apply(this, args);
    };
    return original;
  });
  counter.restore = () => targets.forEach(([proto, method], i) => ((proto as unknown as Record<string, unknown>)[method] = originals[i]));
  return counter;
}
const draft = (n: number, lane = 'default', url = `${ORIGIN}/api/${n}`): Draft => ({
  method: 'POST',
  url,
  lane,
  idempotencyKey: `"key-${n}"`,
  request: { headers: [['content-type', 'application/json']], body: new TextEncoder().encode(`{"n":${n}}`).buffer as ArrayBuffer, credentials: 'same-origin', mode: 'cors', redirect: 'follow', referrer: '' },
});
const rules = (over: Partial<ClaimRules> = {}): ClaimRules => ({ now: 1_000, maxAgeMs: 100_000, slots: 6, force: false, owner: 'me', timeoutMs: 10_000, goneOwners: new Set(), user: undefined, ...over });
const ME = { owner: 'me', timeoutMs: 10_000 };
const OTHER = { owner: 'other', timeoutMs: 10_000 };
const policy = { baseMs: 1_000, maxMs: 60_000, maxRetryableAnswers: 10 };
const ctx = { policy, now: 1_000, random: () => 0.5, pageWaiting: false, othersAnswered: false, request: { headers: [], body: null, credentials: 'same-origin', mode: 'cors', redirect: 'follow', referrer: '' } as StoredRequest };
const ok = { kind: 'response' as const, response: new Response(null, { status: 201 }) };

test('add: ids count up per client; the first write of a free lane is claimed in the same transaction, a later one waits', async () => {
  const store = freshStore();
  const a = await store.add(draft(1), 0, ME);
  const b = await store.add(draft(2), 0, ME);
  const c = await store.add(draft(3, 'photos'), 0, ME);
  assert.deepEqual([a.transition.entry.id, b.transition.entry.id, c.transition.entry.id], [1, 2, 3]);
  assert.deepEqual([a.transition.entry.state, b.transition.entry.state, c.transition.entry.state], ['sending', 'pending', 'sending']);
  assert.deepEqual(c.counts, { pending: 3, deadLetters: 0, conflicts: 0 });
  assert.match(a.clientId, /^[0-9a-f-]{36}$/);
  assert.equal(await store.clientId(), a.clientId);
  // Without an owner (no free slot, or offline) nothing is claimed.
  assert.equal((await freshStore().add(draft(1), 0, undefined)).transition.entry.state, 'pending');
});

test('add after a transaction of its own: no read before the writes, the previous answer carried, the lane known free', async () => {
  const name = freshName();
  const store = new OutboxStore(ORIGIN, name);
  const first = (await store.add(draft(1), 0, ME)).transition.entry;
  const reads = countReads();
  try {
    const second = await store.add(draft(2), 0, ME, [{ id: 1, transition: answered(first as never, ok, ctx), was: first }]);
    assert.equal(reads.count, 1, 'only the meta record is read, beside the writes, to check it');
    assert.deepEqual([second.transition.entry.id, second.transition.entry.state], [2, 'sending']);
    assert.deepEqual(second.counts, { pending: 1, deadLetters: 0, conflicts: 0 });
  } finally {
    reads.restore();
  }
  assert.deepEqual(await store.verifyCounts(), { pending: 1, deadLetters: 0, conflicts: 0 });
  assert.equal(await storedRequest(name, 1), undefined, 'the carried answer deleted the first write');
});

test('add knowing the meta record, after another worker wrote: aborted and done again by reading, so no id is used twice', async () => {
  const name = freshName();
  const mine = new OutboxStore(ORIGIN, name);
  const theirs = new OutboxStore(ORIGIN, name);
  await mine.add(draft(1), 0, undefined);
  await theirs.add(draft(2), 0, undefined);
  const third = await mine.add(draft(3), 0, undefined);
  assert.equal(third.transition.entry.id, 3);
  assert.deepEqual(third.counts, { pending: 3, deadLetters: 0, conflicts: 0 });
  assert.equal(new TextDecoder().decode((await storedRequest(name, 2))!.body!), '{"n":2}', 'the other worker’s write is intact');
  assert.deepEqual(await mine.verifyCounts(), { pending: 3, deadLetters: 0, conflicts: 0 });
});

test('commit: settling a write and claiming the next of its lane is one step; lanes go side by side', async () => {
  const name = freshName();
  const store = new OutboxStore(ORIGIN, name);
  const first = (await store.add(draft(1), 0, ME)).transition.entry;
  await store.add(draft(2), 0, ME);
  await store.add(draft(3, 'photos'), 0, undefined);
  assert.equal(first.state, 'sending');
  const settle = answered(first as never, ok, ctx);
  const result = await store.commit([{ id: 1, transition: settle }], rules());
  assert.deepEqual(result.claimed.map(({ entry }) => [entry.id, entry.lane]), [[2, 'default'], [3, 'photos']]);
  assert.equal(new TextDecoder().decode((result.claimed[0]!.request as StoredRequest).body!), '{"n":2}');
  assert.deepEqual(result.counts, { pending: 2, deadLetters: 0, conflicts: 0 });
  assert.equal(await storedRequest(name, 1), undefined, 'a settled write leaves no request behind');
});

test('commit: slots bound the claims; a head not due holds its lane and says when it is due', async () => {
  const store = freshStore();
  for (const lane of ['a', 'b', 'c']) await store.add(draft(lane.charCodeAt(0), lane), 0, undefined);
  const two = await store.commit([], rules({ slots: 2 }));
  assert.deepEqual(two.claimed.map(({ entry }) => entry.lane), ['a', 'b']);
  const failed = answered(two.claimed[0]!.entry, { kind: 'response', response: new Response(null, { status: 503, headers: { 'Retry-After': '5' } }) }, ctx);
  const next = await store.commit([{ id: two.claimed[0]!.entry.id, transition: failed }], rules({ slots: 2, force: true }));
  assert.deepEqual(next.claimed.map(({ entry }) => entry.lane), ['c']);
  assert.deepEqual([...next.blockedLanes], ['a']);
  assert.equal(next.nextDueAt, 6_000);
});

test('commit: another live worker’s attempt holds its lane; once that worker is gone it is claimed again, maybe committing', async () => {
  const store = freshStore();
  await store.add(draft(1), 0, OTHER);
  const held = await store.commit([], rules());
  assert.deepEqual([held.claimed.length, held.foreign.map((entry) => entry.owner)], [0, ['other']]);
  const taken = await store.commit([], rules({ goneOwners: new Set(['other']) }));
  assert.deepEqual(taken.claimed.map(({ entry }) => [entry.id, entry.owner, entry.attempts, entry.mayBeCommitting]), [[1, 'me', 2, true]]);
});

test('commit: heads past maxAgeMs become dead letters on the way, and the next of the lane is claimed', async () => {
  const store = freshStore();
  await store.add(draft(1), 0, undefined);
  await store.add(draft(2), 900, undefined);
  const result = await store.commit([], rules({ maxAgeMs: 500 }));
  assert.deepEqual(result.applied.map((change) => change.transition.events[0]?.type), ['dead-lettered', 'sending']);
  assert.deepEqual(result.claimed.map(({ entry }) => entry.id), [2]);
  assert.deepEqual(result.counts, { pending: 1, deadLetters: 1, conflicts: 0 });
});

test('cancel, retry, discard: by the app’s say-so only, with errors that say what to do', async () => {
  const name = freshName();
  const store = new OutboxStore(ORIGIN, name);
  await store.add(draft(1), 0, ME); // sending
  await store.add(draft(2), 0, ME); // pending behind it
  await assert.rejects(cancel(store, 1, 5), (error: unknown) => error instanceof OutboxError && error.code === 'sending');
  await assert.rejects(retry(store, 2, 5), (error: unknown) => error instanceof OutboxError && error.code === 'not-a-dead-letter');
  await assert.rejects(discard(store, 99), (error: unknown) => error instanceof OutboxError && error.code === 'not-found');

  const cancelling = await cancel(store, 2, 5);
  assert.deepEqual([cancelling.transition.entry.reason.code, cancelling.counts], ['cancelled', { pending: 1, deadLetters: 1, conflicts: 0 }]);
  const retrying = await retry(store, 2, 6);
  const { id, seq, idempotencyKey } = retrying.transition.entry;
  assert.deepEqual([id, seq, idempotencyKey, retrying.counts], [2, 3, '"key-2"', { pending: 2, deadLetters: 0, conflicts: 0 }]);
  assert.equal(new TextDecoder().decode((await storedRequest(name, 2))!.body!), '{"n":2}', 'the request stays under the id');
  const next = await store.add(draft(4), 7, undefined);
  assert.deepEqual([next.transition.entry.id, next.transition.entry.seq], [4, 4], 'ids and sequence numbers are never given twice');
  await cancel(store, 2, 7);
  const discarding = await discard(store, 2);
  assert.deepEqual([discarding.transition.entry, discarding.counts], [null, { pending: 2, deadLetters: 0, conflicts: 0 }]);
  assert.equal(await storedRequest(name, 2), undefined);
});

test('pending: live writes in order, with their content type, bodies when asked, and which the asking page made', async () => {
  const store = freshStore();
  await store.add({ ...draft(1), madeBy: 'page-a' }, 0, ME);
  await store.add({ ...draft(2, 'photos'), madeBy: 'page-b' }, 0, undefined);
  await store.add(draft(3), 0, undefined);
  await cancel(store, 3, 1);
  const withBodies = await store.pending(10, true, 'page-a');
  assert.deepEqual(withBodies.map(({ id, state, mine, contentType }) => [id, state, mine, contentType]), [
    [1, 'sending', true, 'application/json'],
    [2, 'pending', false, 'application/json'],
  ]);
  assert.equal(new TextDecoder().decode(withBodies[1]!.body!), '{"n":2}');
  const [first] = await store.pending(1, false);
  assert.deepEqual([first?.id, 'body' in first!, first?.mine], [1, false, false]);
});

test('snapshot: exact counts, the first N entries and dead letters, and each lane with its head; no body', async () => {
  const store = freshStore();
  for (let n = 1; n <= 5; n++) await store.add(draft(n), 0, undefined);
  for (let n = 6; n <= 7; n++) await store.add(draft(n, 'photos'), 0, undefined);
  await cancel(store, 3, 1);
  const snapshot = await store.snapshot(2, 1_000);
  assert.deepEqual(snapshot.counts, { pending: 6, deadLetters: 1, conflicts: 0 });
  assert.deepEqual(snapshot.entries.map((entry) => entry.id), [1, 2]);
  assert.deepEqual(snapshot.deadLetters.map((entry) => [entry.id, entry.deadCode]), [[3, 'cancelled']]);
  assert.deepEqual(snapshot.lanes.map(({ lane, head, waiting }) => [lane, head, waiting]), [['default', 1, 4], ['photos', 6, 2]]);
  assert.equal(JSON.stringify(snapshot).includes('"n"'), false);
});

test('verifyCounts mends kept counts from the index', async () => {
  const name = freshName();
  const store = new OutboxStore(ORIGIN, name);
  await store.add(draft(1), 0, undefined);
  await store.add(draft(2), 0, undefined);
  // Damage the kept counts, as a bug or a crash between two stores might.
  const db = await new Promise<IDBDatabase>((resolve) => (indexedDB.open(name).onsuccess = (event) => resolve((event.target as IDBOpenDBRequest).result)));
  const tx = db.transaction('meta', 'readwrite');
  const meta = await new Promise<Record<string, number>>((resolve) => (tx.objectStore('meta').get('meta').onsuccess = (event) => resolve((event.target as IDBRequest).result)));
  tx.objectStore('meta').put({ ...meta, pending: 40, deadLetters: 3 }, 'meta');
  await new Promise((resolve) => (tx.oncomplete = resolve));
  db.close();
  assert.deepEqual(await store.verifyCounts(), { pending: 2, deadLetters: 0, conflicts: 0 });
});

/** Lays out a database exactly as sw-outbox 0.1 left it: idb-keyval's one store, version 1. */
async function v1Database(name: string, records: [IDBValidKey, unknown][]): Promise<void> {
  const request = indexedDB.open(name);
  request.onupgradeneeded = () => request.result.createObjectStore('entries');
  const db = await new Promise<IDBDatabase>((resolve) => (request.onsuccess = () => resolve(request.result)));
  const tx = db.transaction('entries', 'readwrite');
  for (const [key, value] of records) tx.objectStore('entries').put(value, key);
  await new Promise((resolve) => (tx.oncomplete = resolve));
  db.close();
}

test('upgrade from 0.1: every entry kept, in order, with its key, history, client id and sequence', async () => {
  const name = freshName();
  const v1 = (seq: number, over: Record<string, unknown> = {}) => ({
    seq, method: 'POST', url: `${ORIGIN}/api/items`, headers: [['content-type', 'application/json']], body: new TextEncoder().encode(`{"i":${seq}}`).buffer,
    credentials: 'same-origin', mode: 'cors', redirect: 'follow', referrer: `${ORIGIN}/`, idempotencyKey: `"v1-${seq}"`, state: 'pending',
    createdAt: 100 + seq, nextAttemptAt: 500, attempts: 1, retryableResponses: 0, unanswered: true, lastError: 'network error: Failed to fetch', ...over,
  });
  await v1Database(name, [
    ['meta', { clientId: 'c0ffee00-0000-4000-8000-000000000001', lastSeq: 12 }],
    [3, v1(3)],
    [5, v1(5, { attempts: 0, unanswered: false, lastError: undefined })],
    [7, v1(7, { state: 'dead', unanswered: false, lastStatus: 400, deadReason: 'HTTP 400' })],
    [9, v1(9, { url: 'https://api.other.test/items' })],
  ]);
  const store = new OutboxStore(ORIGIN, name);
  assert.equal(await store.clientId(), 'c0ffee00-0000-4000-8000-000000000001');
  const snapshot = await store.snapshot(10, 1_000);
  assert.deepEqual(snapshot.counts, { pending: 3, deadLetters: 1, conflicts: 0 });
  assert.deepEqual(snapshot.entries.map(({ id, lane }) => [id, lane]), [[3, 'default'], [5, 'default'], [9, 'https://api.other.test default']]);
  assert.deepEqual(snapshot.deadLetters.map(({ id, deadCode, deadReason }) => [id, deadCode, deadReason]), [[7, 'rejected', 'HTTP 400']]);

  // The old worker died mid-send on #3: it is due at once on a forced claim, its key kept.
  const claim = await store.commit([], rules({ force: true }));
  const [claimedHead] = claim.claimed;
  const head = claimedHead && { ...claimedHead, request: claimedHead.request as StoredRequest };
  assert.deepEqual([head?.entry.id, head?.entry.idempotencyKey, head?.entry.mayBeCommitting, head?.entry.attempts], [3, '"v1-3"', true, 2]);
  assert.equal(new TextDecoder().decode(head!.request.body!), '{"i":3}');
  assert.equal(head?.request.referrer, `${ORIGIN}/`);
  // The sequence counts on from 0.1's, so the server sees one client's writes in order.
  assert.equal((await store.add(draft(1), 2_000, undefined)).transition.entry.id, 13);
  const waiting = (await store.snapshot(10, 2_000)).entries.find((entry) => entry.id === 5) as unknown as PendingEntry | undefined;
  assert.equal(waiting?.state, 'pending');
});

test('a store opened with no database yet starts empty', async () => {
  const store = freshStore();
  assert.deepEqual((await store.snapshot(5, 0)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
  const live: LiveEntry | undefined = (await store.commit([], rules())).claimed[0]?.entry;
  assert.equal(live, undefined);
});

test('a write its page made again after its worker stopped while sending it is found as that write: same page, lane, method, URL and body, sent by another worker', async () => {
  const name = freshName();
  const stopped = new OutboxStore(ORIGIN, name);
  const page = (n: number, madeBy = 'page-1', url?: string): Draft => ({ ...draft(n, 'default', url), idempotencyKey: `"again-${n}"`, madeBy });
  const sending = (await stopped.add(page(1), 0, OTHER)).transition.entry;
  const next = new OutboxStore(ORIGIN, name);
  assert.equal(next.mayHoldSending([], 0), true, 'a store that has read nothing yet may hold one');
  const resent = (write: Awaited<ReturnType<OutboxStore['add']>>) => ('resent' in write ? write.resent.id : undefined);
  assert.equal(resent(await next.add(page(1), 0, undefined, [], { resentBy: 'me' })), sending.id);
  assert.equal(resent((await next.addMany([{ draft: page(1), now: 0, settled: [], resentBy: 'me' }]))[0]!), sending.id, 'the same in a group');
  assert.equal((await next.snapshot(5, 0)).counts.pending, 1, 'nothing new kept');
  assert.equal(resent(await next.add(page(2, 'page-1', sending.url), 0, undefined, [], { resentBy: 'me' })), undefined, 'another body');
  assert.equal(resent(await next.add(page(1, 'page-2'), 0, undefined, [], { resentBy: 'me' })), undefined, 'another page');
  assert.equal(resent(await next.add(page(1), 0, undefined, [], { resentBy: 'other' })), undefined, 'a write this worker sends is its own');
  assert.equal((await next.snapshot(5, 0)).counts.pending, 4, 'those three kept');
  assert.equal(resent(await next.add(page(1), 0, undefined, [], { resentBy: 'me' })), sending.id, 'found by a store that knows its meta record, with no read first');
  assert.equal((await next.snapshot(5, 0)).counts.pending, 4);
});
