/**
 * A write whose lane is free is sent while its write-ahead transaction runs (decision
 * 0029): each case of that decision, on an outbox whose store commits late, fails, or finds
 * that another worker wrote first.
 */
import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NOT_STORED_HEADER } from '../../contract/http.js';
import { toDraft } from '../../sw/stored-request.js';
import { OutboxStore } from '../../sw/outbox-store.js';
import { stored } from '../../sw/transitions.js';
import { answer, harness, ORIGIN, refused, until, type Server } from '../support/outbox-harness.js';

/** An outbox with one write delivered, so that its store knows its meta record: the next write on a free lane goes at once. */
async function warmed(server?: Server) {
  const h = harness();
  assert.equal((await h.write('/api/items/0')).status, 201);
  await h.settle();
  if (server) h.state.server = server;
  return h;
}

const sequences = (requests: Request[]) => requests.map((request) => `${new URL(request.url).pathname} ${request.headers.get('Outbox-Sequence')}`);

test('sent while stored: the request leaves before the transaction ends, and the page, answered first by the server, gets its answer once the write is stored', async () => {
  const h = await warmed();
  let commit!: () => void;
  const late = new Promise<void>((resolve) => (commit = resolve));
  const addAtOnce = h.store.addAtOnce.bind(h.store);
  h.store.addAtOnce = (...args) => {
    const begun = addAtOnce(...args);
    return begun && { ...begun, stored: late.then(() => begun.stored) };
  };
  let answered: Promise<Response> | undefined;
  h.state.server = (request) => (answered = answer(201, {}, request.url));
  let pageAnswered = false;
  const page = h.write('/api/items/1').then((response) => ((pageAnswered = true), response));
  await until(() => answered !== undefined, 'the request sent before its transaction ends');
  await answered;
  await new Promise(setImmediate);
  assert.equal(pageAnswered, false, 'no answer before the write is stored');
  commit();
  assert.equal((await page).status, 201);
  await h.settle();
  assert.deepEqual(h.steps, ['add', 'fetch', 'commit', 'add at once', 'fetch', 'commit']);
  assert.deepEqual(sequences(h.sent), ['/api/items/0 1', '/api/items/1 2']);
  assert.deepEqual(h.types().slice(-4), ['queued', 'sending', 'sent', 'drained']);
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

/** The store of `h` made to fail the transaction of a write sent at once, after the request left: nothing of it is stored. */
function failingStore(h: ReturnType<typeof harness>, error: Error) {
  h.store.addAtOnce = (draft, now, claim, _settled, send) => {
    send(stored(draft, 99, now, claim).entry as never, 'client-1');
    return { stored: Promise.reject(error) };
  };
}

test('sent while stored, and its transaction fails (a full disk): the page gets the server’s answer, sent once as without the outbox, and is told so; nothing is kept', async () => {
  const h = await warmed();
  failingStore(h, new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
  const response = await h.write('/api/items/1', { a: 1 });
  assert.equal(response.status, 201);
  assert.equal(h.sent.length, 2, 'sent once');
  assert.ok(h.sent[1]!.headers.get('Idempotency-Key'), 'stamped as it was sent');
  assert.deepEqual(h.types().slice(-1), ['storage-full']);
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('sent while stored, and both the transaction and the send fail: 507 Outbox-Not-Stored, never "queued"', async () => {
  const h = await warmed(refused);
  failingStore(h, new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
  const before = h.events.length;
  const response = await h.write('/api/items/1');
  assert.equal(response.status, 507);
  assert.equal(response.headers.get(NOT_STORED_HEADER), '?1');
  assert.equal(h.sent.length, 2, 'not sent a second time');
  assert.deepEqual(h.types().slice(before), ['storage-full']);
});

test('another worker stored a write meanwhile: nothing goes before the store is held; the write is stored anew behind the other, and each is sent once, in order, with its own sequence number', async () => {
  const h = await warmed();
  const otherWorker = new OutboxStore(ORIGIN, h.name);
  await otherWorker.add(await toDraft(new Request(`${ORIGIN}/api/items/other`, { method: 'POST', body: '{}' }), 'default'), h.clock.now(), undefined);
  const response = await h.write('/api/items/1');
  await h.settle();
  await until(() => h.sent.length === 3, 'both writes sent');
  assert.ok([201, 202].includes(response.status));
  assert.ok(h.steps.includes('add at once'), 'it was begun at once, from what the store expected');
  assert.deepEqual(sequences(h.sent), ['/api/items/0 1', '/api/items/other 2', '/api/items/1 3']);
  assert.equal(new Set(h.sent.map((request) => request.headers.get('Idempotency-Key'))).size, 3);
});

test('a write that must wait never goes at once: offline, or behind a write of its lane', async () => {
  const h = await warmed();
  h.state.online = false;
  assert.equal((await h.write('/api/items/1')).status, 202);
  h.state.online = true;
  assert.equal((await h.write('/api/items/2')).status, 201);
  await h.settle();
  assert.deepEqual(sequences(h.sent), ['/api/items/0 1', '/api/items/1 2', '/api/items/2 3']);
  assert.equal(h.steps.filter((step) => step === 'add at once').length, 0);
});
