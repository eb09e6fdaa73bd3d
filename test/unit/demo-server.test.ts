import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as Y from 'yjs';
import { DemoServer } from '../../demo/server/demo-server.js';

// The demo's server on a real port, driven with fetch as the outbox would drive it.
let demo: DemoServer;
let listId: string;
let seq = 0;
const clientId = 'c0ffee00-0000-4000-8000-000000000000';

before(async () => {
  demo = await DemoServer.start();
  listId = demo.api.model.lists()[0]!.id;
});
after(() => demo.stop());

function write(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, bytes?: Uint8Array): Promise<Response> {
  seq += 1;
  return fetch(`${demo.url}/api${path}`, {
    method,
    body: (bytes as BodyInit | undefined) ?? (body === undefined ? undefined : JSON.stringify(body)),
    headers: { 'Idempotency-Key': `"k-${seq}"`, 'Outbox-Client-Id': clientId, 'Outbox-Sequence': String(seq), ...headers },
  });
}

const names = () => demo.api.model.list(listId).items.map((item) => item.name);

test('reads carry an ETag; a write to a stale version gets 412, a current one applies', async () => {
  const read = await fetch(`${demo.url}/api/lists/${listId}`);
  const list = (await read.json()) as { version: number; items: { id: string; version: number }[] };
  assert.equal(read.headers.get('etag'), `"${list.version}"`);
  const item = list.items[0]!;
  const path = `/lists/${listId}/items/${item.id}`;
  assert.equal((await write('PATCH', path, { name: 'Oat milk' }, { 'If-Match': `"${item.version + 1}"` })).status, 412);
  const applied = await write('PATCH', path, { name: 'Oat milk' }, { 'If-Match': `"${item.version}"` });
  assert.equal(applied.status, 200);
  assert.equal(applied.headers.get('etag'), `"${item.version + 1}"`);
  assert.equal(names()[0], 'Oat milk');
});

test('a tick carries only done, and keeps a rename made meanwhile', async () => {
  const item = demo.api.model.list(listId).items[1]!;
  demo.api.model.updateItem(listId, item.id, { name: 'Brown eggs' });
  assert.equal((await write('PATCH', `/lists/${listId}/items/${item.id}`, { done: true })).status, 200);
  assert.deepEqual({ name: item.name, done: item.done }, { name: 'Brown eggs', done: true });
});

test('a rename made to an older version merges with a tick made since; two renames of one item get 412 with the item as it is now', async () => {
  const item = demo.api.model.list(listId).items[2]!;
  const seen = item.version;
  // Someone ticks it, then a rename made to the version before the tick arrives.
  assert.equal((await write('PATCH', `/lists/${listId}/items/${item.id}`, { done: true })).status, 200);
  const merged = await write('PATCH', `/lists/${listId}/items/${item.id}`, { name: 'Rye bread' }, { 'If-Match': `"${seen}"` });
  assert.equal(merged.status, 200);
  assert.deepEqual({ name: item.name, done: item.done }, { name: 'Rye bread', done: true });
  assert.equal(merged.headers.get('etag'), `"${item.version}"`);

  // Someone else renames it too, to the same version this rename was made to: a real conflict.
  const before = item.version;
  assert.equal((await write('PATCH', `/lists/${listId}/items/${item.id}`, { name: 'Sourdough' }, { 'If-Match': `"${before}"` })).status, 200);
  const clash = await write('PATCH', `/lists/${listId}/items/${item.id}`, { name: 'Spelt bread' }, { 'If-Match': `"${before}"` });
  assert.equal(clash.status, 412);
  assert.equal(clash.headers.get('etag'), `"${item.version}"`);
  const problem = (await clash.json()) as { type: string; conflicts: string[]; current: unknown };
  assert.deepEqual(problem.conflicts, ['/name']);
  assert.deepEqual(problem.current, { name: 'Sourdough', done: true });
  assert.equal(problem.type, 'tag:sw-outbox,2026:changed-since');
  assert.equal(item.name, 'Sourdough');
});

test('a list renamed to an older version merges with item changes made since', async () => {
  const list = demo.api.model.list(listId);
  const seen = list.version;
  await write('PATCH', `/lists/${listId}/items/${list.items[0]!.id}`, { done: true });
  assert.equal((await write('PATCH', `/lists/${listId}`, { name: 'Saturday shop' }, { 'If-Match': `"${seen}"` })).status, 200);
  assert.equal(list.name, 'Saturday shop');
});

test('the shared note takes Yjs updates: the same update twice, or two in either order, give one note; bytes that are no update get 400', async () => {
  const edit = (text: string) => {
    const doc = new Y.Doc();
    doc.getText('note').insert(0, text);
    return Y.encodeStateAsUpdate(doc);
  };
  const post = (update: Uint8Array) => write('POST', `/lists/${listId}/note`, undefined, { 'Content-Type': 'application/octet-stream' }, update);
  const [a, b] = [edit('Buy oat milk. '), edit('Sam pays. ')];
  for (const update of [b, a, b]) assert.equal((await post(update)).status, 204);
  const text = demo.api.model.noteText(listId);
  assert.equal(text.length, 'Buy oat milk. Sam pays. '.length);
  // The other order gives the same note.
  const other = new Y.Doc();
  for (const update of [a, b]) Y.applyUpdate(other, update);
  assert.equal(other.getText('note').toString(), text);
  // Read back as the page reads it.
  const read = new Y.Doc();
  Y.applyUpdate(read, new Uint8Array(await (await fetch(`${demo.url}/api/lists/${listId}/note`)).arrayBuffer()));
  assert.equal(read.getText('note').toString(), text);
  const garbage = await post(new Uint8Array([255, 255, 255, 7]));
  assert.equal(garbage.status, 400);
  assert.match(((await garbage.json()) as { detail: string }).detail, /must be a Yjs update of the note/);
});

test('a move says where an item goes: after another, to the top, or to the end if its anchor is gone', async () => {
  const [a, b, c] = demo.api.model.list(listId).items.map((item) => item.id);
  await write('POST', `/lists/${listId}/moves`, { item: a, after: c });
  assert.equal(demo.api.model.list(listId).items[2]!.id, a);
  await write('POST', `/lists/${listId}/moves`, { item: a, after: null });
  assert.equal(demo.api.model.list(listId).items[0]!.id, a);
  await write('POST', `/lists/${listId}/moves`, { item: b, after: 'gone' });
  assert.equal(demo.api.model.list(listId).items.at(-1)!.id, b);
});

test('the order guard refuses a write older than one already processed from the same client', async () => {
  const stale = await fetch(`${demo.url}/api/lists/${listId}/items`, {
    method: 'POST',
    body: JSON.stringify({ id: 'late', name: 'Late' }),
    headers: { 'Idempotency-Key': '"stale"', 'Outbox-Client-Id': clientId, 'Outbox-Sequence': '1' },
  });
  assert.equal(stale.status, 409);
  assert.match(((await stale.json()) as { title: string }).title, /Out of order/);
  assert.ok(!names().includes('Late'));
});

test('the order guard moves on only for applied writes: a conflict sent again, resolved, keeps its own sequence number', async () => {
  const other = crypto.randomUUID();
  const item = demo.api.model.list(listId).items[0]!;
  const rename = (name: string, ifMatch: string, key: string) =>
    fetch(`${demo.url}/api/lists/${listId}/items/${item.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ name }),
      headers: { 'Content-Type': 'application/merge-patch+json', 'If-Match': ifMatch, 'Idempotency-Key': key, 'Outbox-Client-Id': other, 'Outbox-Sequence': '5' },
    });
  const refused = await rename('Stale', '"999"', '"first"');
  assert.equal(refused.status, 412);
  const resolved = await rename('Resolved', refused.headers.get('ETag')!, '"second"');
  assert.equal(resolved.status, 200);
  assert.equal(demo.api.model.list(listId).items[0]!.name, 'Resolved');
});

test('bad input gets 400 problem+json naming the field', async () => {
  const answer = await write('POST', `/lists/${listId}/items`, { id: 'x', name: '' });
  assert.equal(answer.status, 400);
  assert.equal(answer.headers.get('content-type'), 'application/problem+json');
  assert.match(((await answer.json()) as { detail: string }).detail, /"name" must be a non-empty string/);
});

test('chaos settings: changed, read and reset over HTTP; a bad setting is named', async () => {
  const set = await fetch(`${demo.url}/_chaos`, { method: 'PUT', body: JSON.stringify({ flaky: 0.5, slowMs: 10 }) });
  assert.deepEqual(await set.json(), { down: false, flaky: 0.5, slowMs: 10, unavailableFor: 0, loseResponses: false });
  const bad = await fetch(`${demo.url}/_chaos`, { method: 'PUT', body: JSON.stringify({ flakey: 1 }) });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { detail: string }).detail, /Unknown chaos setting "flakey"/);
  await fetch(`${demo.url}/_chaos`, { method: 'DELETE' });
  assert.equal(demo.chaos.settings.flaky, 0);
});

test('chaos: down resets API connections; 503 carries Retry-After', async () => {
  demo.chaos.update({ down: true });
  await assert.rejects(fetch(`${demo.url}/api/lists`));
  demo.chaos.update({ down: false, unavailableFor: 7 });
  const unavailable = await fetch(`${demo.url}/api/lists`);
  assert.equal(unavailable.status, 503);
  assert.equal(unavailable.headers.get('retry-after'), '7');
  demo.chaos.reset();
});
