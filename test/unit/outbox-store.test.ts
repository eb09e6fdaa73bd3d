import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutboxStore, type EntryDraft } from '../../sw/outbox-store.js';
import { OutboxError } from '../../sw/outbox-error.js';

let dbCount = 0;
const freshStore = () => new OutboxStore(`test-${++dbCount}`);
const draft = (n: number): EntryDraft => ({
  method: 'POST',
  url: `https://app.test/api/${n}`,
  headers: [['content-type', 'application/json']],
  body: new TextEncoder().encode(`{"n":${n}}`).buffer as ArrayBuffer,
  credentials: 'same-origin',
  mode: 'cors',
  redirect: 'follow',
  referrer: '',
  idempotencyKey: `"key-${n}"`,
});
/** Reads one stored entry back, as DevTools would show it. */
const stored = async (store: OutboxStore, seq: number) => (await store.all()).find((entry) => entry.seq === seq);
const rules = { now: 1_000, maxAgeMs: 10_000, force: false };

test('entries get consecutive sequence numbers and are claimed in that order', async () => {
  const store = freshStore();
  const a = await store.add(draft(1), 0);
  const b = await store.add(draft(2), 0);
  assert.deepEqual([a.seq, b.seq], [1, 2]);
  const claim = await store.claimNext(rules);
  assert.equal(claim.next?.entry.seq, 1);
  assert.equal(claim.next?.entry.attempts, 1);
  assert.equal(claim.next?.previousUnanswered, false);
  // The attempt is on disk before the request goes out.
  assert.deepEqual([(await stored(store, 1))?.attempts, (await stored(store, 1))?.unanswered], [1, true]);
  assert.equal(new TextDecoder().decode((await stored(store, 2))!.body!), '{"n":2}');
});

test('the sequence keeps counting after the queue empties', async () => {
  const store = freshStore();
  await store.add(draft(1), 0);
  await store.delete(1);
  assert.equal((await store.add(draft(2), 0)).seq, 2);
});

test('a head that is not due stops the claim; force skips only waits for an answer', async () => {
  const store = freshStore();
  const head = await store.add(draft(1), 0);
  await store.add(draft(2), 0);
  await store.put({ ...head, nextAttemptAt: 5_000, unanswered: false });
  assert.deepEqual(await store.claimNext(rules), { expired: [], waitUntil: 5_000 });
  assert.equal((await store.claimNext({ ...rules, force: true })).waitUntil, 5_000);
  await store.put({ ...head, nextAttemptAt: 5_000, unanswered: true });
  assert.equal((await store.claimNext({ ...rules, force: true })).next?.entry.seq, 1);
});

test('dead letters never block; entries past maxAgeMs become dead letters', async () => {
  const store = freshStore();
  const old = await store.add(draft(1), 0);
  const dead = await store.add(draft(2), 500);
  await store.add(draft(3), 500);
  await store.put({ ...dead, state: 'dead', deadReason: 'HTTP 400' });
  const claim = await store.claimNext({ ...rules, now: 10_200 });
  assert.deepEqual(claim.expired.map((entry) => [entry.seq, entry.state]), [[old.seq, 'dead']]);
  assert.equal(claim.next?.entry.seq, 3);
  assert.match((await stored(store, 1))!.deadReason!, /maxAgeMs/);
});

test('requeue moves a dead letter to the tail with a new sequence; discard deletes it', async () => {
  const store = freshStore();
  const first = await store.add(draft(1), 0);
  await store.add(draft(2), 0);
  await store.put({ ...first, state: 'dead', deadReason: 'gave up after 10 retryable answers, the last HTTP 503', lastStatus: 503, attempts: 10 });
  const again = await store.requeue(1, 2_000);
  // It may have been applied (5xx), so it keeps its key.
  assert.deepEqual([again.seq, again.state, again.attempts, again.idempotencyKey, again.deadReason], [3, 'pending', 0, '"key-1"', undefined]);
  assert.equal(await stored(store, 1), undefined);

  await store.put({ ...again, state: 'dead' });
  await store.discard(3);
  assert.deepEqual((await store.all()).map((entry) => entry.seq), [2]);
  await assert.rejects(store.discard(2), (error: unknown) => error instanceof OutboxError && error.code === 'not-a-dead-letter');
  await assert.rejects(store.requeue(42, 0), (error: unknown) => error instanceof OutboxError && error.code === 'not-found');
});

test('a dead letter the server refused (4xx) is requeued with a new key; one that may have been applied keeps its key', async () => {
  const store = freshStore();
  const cases = [
    { lastStatus: 400, unanswered: false, newKey: true },
    { lastStatus: 409, unanswered: false, newKey: true },
    { lastStatus: 412, unanswered: false, newKey: true },
    { lastStatus: 429, unanswered: false, newKey: false },
    { lastStatus: 503, unanswered: false, newKey: false },
    { lastStatus: 400, unanswered: true, newKey: false },
    { lastStatus: undefined, unanswered: true, newKey: false },
  ];
  for (const [i, { lastStatus, unanswered, newKey }] of cases.entries()) {
    const entry = await store.add(draft(i), 0);
    await store.put({ ...entry, state: 'dead', lastStatus, unanswered, deadReason: 'test' });
    const again = await store.requeue(entry.seq, 0);
    const label = `${lastStatus} unanswered=${unanswered}`;
    if (newKey) assert.match(again.idempotencyKey, /^"[0-9a-f-]{36}"$/, label);
    else assert.equal(again.idempotencyKey, entry.idempotencyKey, label);
  }
});

test('the client id is made once and kept', async () => {
  const store = freshStore();
  const id = await store.clientId();
  assert.match(id, /^[0-9a-f-]{36}$/);
  await store.add(draft(1), 0);
  assert.equal(await new OutboxStore(`test-${dbCount}`).clientId(), id);
});
