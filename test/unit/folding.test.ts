import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Draft } from '../../sw/entry.js';
import { OutboxStore, type Added } from '../../sw/outbox-store.js';

// Folding on the store itself (fake-indexeddb): what a later write may replace, and what not.
const ORIGIN = 'https://app.test';
let dbCount = 0;
const freshStore = () => new OutboxStore(ORIGIN, `fold-${++dbCount}`);
let keys = 0;
function write(method: string, path: string, body?: unknown, headers: [string, string][] = [], lane = 'default'): Draft {
  return {
    method,
    url: `${ORIGIN}${path}`,
    lane,
    idempotencyKey: `"key-${++keys}"`,
    request: { headers, body: body === undefined ? null : (new TextEncoder().encode(JSON.stringify(body)).buffer as ArrayBuffer), credentials: 'same-origin', mode: 'cors', redirect: 'follow', referrer: '' },
  };
}
const patch = (body: unknown, ifMatch?: string) => write('PATCH', '/api/items/1', body, [['content-type', 'application/merge-patch+json'], ...(ifMatch ? [['if-match', ifMatch] as [string, string]] : [])]);
const add = (store: OutboxStore, draft: Draft) => store.add(draft, 1_000, undefined, [], { folds: true });
/** The waiting write a stored one replaced, as the store reports it: a `folded` change. */
const foldedIn = (added: Added) => added.applied.find(({ transition }) => transition.events[0]?.type === 'folded')?.was;
const waiting = async (store: OutboxStore) =>
  (await store.pending(100, true)).map(({ method, url, body }) => `${method} ${new URL(url).pathname} ${body ? new TextDecoder().decode(body) : ''}`.trim());

test('merge patches to one URL compose into one write, which keeps the first one’s If-Match and gets its own key', async () => {
  const store = freshStore();
  const first = await add(store, patch({ name: 'T' }, '"3"'));
  await add(store, patch({ name: 'Te', done: true }, '"4"'));
  const last = await add(store, patch({ name: 'Tea', done: null }, '"5"'));
  assert.equal(foldedIn(last)?.idempotencyKey, '"key-2"');
  assert.deepEqual(await waiting(store), ['PATCH /api/items/1 {"name":"Tea","done":null}']);
  const [kept] = await store.pending(1, false);
  assert.equal(kept!.id, last.transition.entry.id);
  assert.notEqual(last.transition.entry.idempotencyKey, first.transition.entry.idempotencyKey);
  assert.deepEqual(last.counts, { pending: 1, deadLetters: 0, conflicts: 0 });
  const request = await new Promise<{ headers: [string, string][] }>((resolve) => {
    indexedDB.open(`fold-${dbCount}`).onsuccess = (event) => {
      const db = (event.target as IDBOpenDBRequest).result;
      db.transaction('requests').objectStore('requests').get(last.transition.entry.id).onsuccess = (read) => resolve((read.target as IDBRequest).result);
    };
  });
  assert.deepEqual(request.headers.filter(([name]) => name === 'if-match'), [['if-match', '"3"']]);
});

test('100 renames of one item made offline leave one write, with the last name', async () => {
  const store = freshStore();
  for (let i = 1; i <= 100; i++) await add(store, patch({ name: `name ${i}` }));
  assert.deepEqual(await waiting(store), ['PATCH /api/items/1 {"name":"name 100"}']);
});

test('a PUT replaces a waiting PUT; a DELETE replaces a waiting PUT or PATCH; a POST is never folded, nor folded over', async () => {
  const store = freshStore();
  await add(store, write('PUT', '/api/items/2', { v: 1 }));
  await add(store, write('PUT', '/api/items/2', { v: 2 }));
  assert.deepEqual(await waiting(store), ['PUT /api/items/2 {"v":2}']);
  await add(store, write('DELETE', '/api/items/2'));
  assert.deepEqual(await waiting(store), ['DELETE /api/items/2']);

  const posts = freshStore();
  await add(posts, write('POST', '/api/items', { n: 1 }));
  await add(posts, write('POST', '/api/items', { n: 2 }));
  await add(posts, write('DELETE', '/api/items'));
  assert.equal((await waiting(posts)).length, 3);
});

test('never across another write of the lane, never a write that had an attempt, never a plain JSON PATCH', async () => {
  const store = freshStore();
  await add(store, patch({ name: 'A' }));
  await add(store, write('PATCH', '/api/items/9', { other: true }, [['content-type', 'application/merge-patch+json']]));
  await add(store, patch({ name: 'B' }));
  assert.equal((await waiting(store)).length, 3, 'another write of the lane stands between them');

  // In another lane, the same URL is another lane's business: nothing to fold with.
  const lanes = freshStore();
  await add(lanes, patch({ name: 'A' }));
  await add(lanes, { ...patch({ name: 'B' }), lane: 'other' });
  assert.equal((await waiting(lanes)).length, 2);

  const tried = freshStore();
  const first = await tried.add(patch({ name: 'A' }), 1_000, { owner: 'me', timeoutMs: 10_000 });
  assert.equal(first.transition.entry.state, 'sending');
  await add(tried, patch({ name: 'B' }));
  assert.equal((await waiting(tried)).length, 2, 'the first was being sent: it may have been applied');

  const plain = freshStore();
  await add(plain, write('PATCH', '/api/items/1', { name: 'A' }, [['content-type', 'application/json']]));
  await add(plain, write('PATCH', '/api/items/1', { name: 'B' }, [['content-type', 'application/json']]));
  assert.equal((await waiting(plain)).length, 2, 'only merge patches say how to compose');
});

test('a write with a precondition is not folded into one without: its If-Match names a version only the first would make', async () => {
  const store = freshStore();
  await add(store, patch({ done: true }));
  await add(store, patch({ name: 'Tea' }, '"4"'));
  assert.equal((await waiting(store)).length, 2);
});

test('folding is off unless asked for: the same writes all wait', async () => {
  const store = freshStore();
  for (const name of ['A', 'B']) await store.add(patch({ name }), 1_000, undefined, []);
  assert.equal((await waiting(store)).length, 2);
});
