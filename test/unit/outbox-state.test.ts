import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OUTBOX_NOT_READY, watchOutbox, type OutboxClient, type Snapshot, type StatusMessage } from '../../client/index.js';

/** A client whose snapshots the test answers one by one, and whose messages it sends. */
function fakeClient() {
  const listeners = new Set<(message: StatusMessage) => void>();
  const reads: ((snapshot: Snapshot) => void)[] = [];
  const client = {
    subscribe(listener: (message: StatusMessage) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot: () => new Promise<Snapshot>((resolve) => reads.push(resolve)),
  };
  const snapshot = (pending: number, deadLetters: Snapshot['deadLetters'] = [], conflicts: Snapshot['conflicts'] = []): Snapshot => ({ counts: { pending, deadLetters: deadLetters.length, conflicts: conflicts.length }, entries: [], deadLetters, conflicts, lanes: [], nextAttemptAt: null, lastError: null, storage: null });
  const message = (pending: number) => ({ type: 'queued', counts: { pending, deadLetters: 0, conflicts: 0 } }) as unknown as StatusMessage;
  return { client: client as unknown as OutboxClient, listeners, reads, snapshot, send: (pending: number) => listeners.forEach((listener) => listener(message(pending))) };
}

test('watchOutbox: not ready until the first snapshot; counts from each message at once; messages during a read make one more read', async () => {
  const fake = fakeClient();
  const watch = watchOutbox(fake.client);
  let changes = 0;
  const stop = watch.subscribe(() => changes++);
  assert.equal(watch.getSnapshot(), OUTBOX_NOT_READY);
  assert.equal(fake.reads.length, 1, 'subscribing reads a snapshot');

  fake.send(1);
  fake.send(2);
  fake.send(3);
  assert.equal(watch.getSnapshot().counts.pending, 3, 'the counts of the latest message');
  assert.equal(fake.reads.length, 1, 'no second read while one is out');
  const same = watch.getSnapshot();
  assert.equal(watch.getSnapshot(), same, 'the same object until it changes');

  fake.reads[0]!(fake.snapshot(1));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(fake.reads.length, 2, 'one more read for the messages that came meanwhile');
  const conflict = { id: 7, state: 'conflict' } as Snapshot['conflicts'][number];
  fake.reads[1]!(fake.snapshot(3, [{ id: 8, deadCode: 'rejected' } as Snapshot['deadLetters'][number]], [conflict]));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(fake.reads.length, 2);
  assert.deepEqual(watch.getSnapshot().conflicts, [conflict]);
  assert.equal(watch.getSnapshot().ready, true);
  assert.ok(changes >= 3);

  stop();
  assert.equal(fake.listeners.size, 0, 'the last unsubscribe stops listening to the client');
});

test('watchOutbox: each identified message adds its mapping to identities, which later snapshots keep', async () => {
  const fake = fakeClient();
  const watch = watchOutbox(fake.client);
  const stop = watch.subscribe(() => {});
  const identified = (provisional: string, id: number) =>
    ({ type: 'identified', counts: { pending: 0, deadLetters: 0, conflicts: 0 }, entry: { id: 1 }, provisional: { id: provisional, url: `/todos/${provisional}` }, real: { id, url: `/todos/${id}` } }) as unknown as StatusMessage;
  fake.listeners.forEach((listener) => listener(identified('outbox-a', 5)));
  fake.listeners.forEach((listener) => listener(identified('outbox-b', 6)));
  assert.deepEqual(watch.getSnapshot().identities, { 'outbox-a': { id: 5, url: '/todos/5' }, 'outbox-b': { id: 6, url: '/todos/6' } });
  for (const read of fake.reads.splice(0)) read(fake.snapshot(0));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(Object.keys(watch.getSnapshot().identities), ['outbox-a', 'outbox-b'], 'a snapshot does not forget them');
  stop();
});
