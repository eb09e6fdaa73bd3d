/**
 * Group commit (issue 22): writes that arrive while a write's transaction runs share the
 * next transaction, in the order they arrived, and a lane's order is kept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NOT_STORED_HEADER } from '../../contract/http.js';
import { harness, refused, until } from '../support/outbox-harness.js';

const sequences = (requests: Request[]) => requests.map((request) => `${new URL(request.url).pathname} ${request.headers.get('Outbox-Sequence')}`);
const adds = (steps: string[]) => steps.filter((step) => step.startsWith('add'));

test('ten offline writes made at once: two transactions, not ten, and they go out in the order they were made', async () => {
  const h = harness();
  h.state.online = false;
  const pages = await Promise.all(Array.from({ length: 10 }, (_, n) => h.write(`/api/items/${n}`)));
  assert.deepEqual(pages.map((page) => page.status), Array(10).fill(202));
  assert.deepEqual(adds(h.steps), ['add', 'addMany'], 'the first write’s transaction, then one for the nine that came meanwhile');
  assert.deepEqual((await h.outbox.snapshot(20)).counts, { pending: 10, deadLetters: 0, conflicts: 0 });
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(sequences(h.sent), Array.from({ length: 10 }, (_, n) => `/api/items/${n} ${n + 1}`));
  assert.equal(new Set(h.sent.map((request) => request.headers.get('Idempotency-Key'))).size, 10);
});

/** An outbox with two writes made offline: the first one's transaction under way, the second waiting in a group. Then it is online. */
async function groupWaiting() {
  const h = harness();
  h.state.online = false;
  const first = h.write('/api/items/1');
  const second = h.write('/api/items/2');
  await until(() => adds(h.steps).length === 1, 'the first write’s transaction begun');
  h.state.online = true;
  return { h, first, second };
}

test('a write that may be sent at once goes behind the writes of a group still waiting: its lane keeps the order they were made in', async () => {
  const { h, first, second } = await groupWaiting();
  const third = h.write('/api/items/3');
  assert.deepEqual([(await first).status, (await second).status, (await third).status], [202, 202, 201]);
  await h.settle();
  assert.deepEqual(sequences(h.sent), ['/api/items/1 1', '/api/items/2 2', '/api/items/3 3']);
});

test('writes arriving while a write that may be sent at once waits behind a group go after it, not ahead', async () => {
  const { h, first, second } = await groupWaiting();
  const third = h.write('/api/items/3');
  const fourth = h.write('/api/items/4');
  const fifth = h.write('/api/items/5');
  assert.deepEqual((await Promise.all([first, second, third, fourth, fifth])).map((page) => page.status), [202, 202, 201, 201, 201]);
  await h.settle();
  assert.deepEqual(sequences(h.sent), ['/api/items/1 1', '/api/items/2 2', '/api/items/3 3', '/api/items/4 4', '/api/items/5 5']);
});

test('a group’s transaction fails (a full disk): nothing of it is kept, and each of its writes is told so, none answered queued', async () => {
  const h = harness();
  h.state.online = false;
  h.state.server = refused;
  h.store.addMany = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
  const pages = await Promise.all([1, 2, 3].map((n) => h.write(`/api/items/${n}`)));
  assert.deepEqual(pages.map((page) => page.status), [202, 507, 507]);
  assert.deepEqual(pages.map((page) => page.headers.get(NOT_STORED_HEADER)), [null, '?1', '?1']);
  assert.deepEqual((await h.outbox.snapshot(20)).counts, { pending: 1, deadLetters: 0, conflicts: 0 });
});
