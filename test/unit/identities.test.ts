import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectionTests, identityFromAnswer, provisionalIdsIn, rewriteJson, rewriteUrl, type Provisional, type RealIdentity } from '../../sw/identities.js';
import { answer, harness, ORIGIN } from '../support/outbox-harness.js';

const P1 = 'outbox-11111111-1111-4111-8111-111111111111';
const P2 = 'outbox-22222222-2222-4222-8222-222222222222';
const known = new Map<string, { provisional: Provisional; real: RealIdentity }>([
  [P1, { provisional: { id: P1, url: `${ORIGIN}/todos/${P1}` }, real: { id: 17, url: `${ORIGIN}/todos/17` } }],
  [P2, { provisional: { id: P2, url: `${ORIGIN}/lists/${P2}` }, real: { id: 'b-9', url: `${ORIGIN}/api/v2/lists/b-9` } }],
]);

test('collections match whole paths, * one segment, a trailing slash either way', () => {
  const [todos, items] = collectionTests(['/todos', '/lists/*/items/']);
  assert.ok(todos!('/todos') && todos!('/todos/'));
  assert.ok(!todos!('/todos/5') && !todos!('/todosx'));
  assert.ok(items!('/lists/abc/items') && items!('/lists/abc/items/'));
  assert.ok(!items!('/lists/a/b/items'));
});

test('rewriting URLs: the provisional URL as a prefix, which may change shape, and provisional path segments', () => {
  assert.equal(rewriteUrl(`${ORIGIN}/todos/${P1}`, known), `${ORIGIN}/todos/17`);
  assert.equal(rewriteUrl(`${ORIGIN}/todos/${P1}?x=1`, known), `${ORIGIN}/todos/17?x=1`);
  assert.equal(rewriteUrl(`${ORIGIN}/lists/${P2}/items`, known), `${ORIGIN}/api/v2/lists/b-9/items`, 'a child created under a new parent');
  assert.equal(rewriteUrl(`${ORIGIN}/other/${P1}/notes`, known), `${ORIGIN}/other/17/notes`, 'a segment elsewhere takes the real id');
  assert.equal(rewriteUrl(`${ORIGIN}/todos/${P1}x`, known), `${ORIGIN}/todos/${P1}x`, 'not the identity: left alone');
});

test('rewriting JSON: ids keep the server’s type, URLs their form, nested values and foreign keys too', () => {
  const body = { title: 'milk', listId: P2, parent: { id: P1, href: `${ORIGIN}/todos/${P1}`, path: `/todos/${P1}` }, tags: [P1, 'x'], note: `see ${P1}` };
  assert.deepEqual(rewriteJson(body, known), { title: 'milk', listId: 'b-9', parent: { id: 17, href: `${ORIGIN}/todos/17`, path: '/todos/17' }, tags: [17, 'x'], note: 'see 17' });
});

test('ids are found in any text, each once; numbers never look like one', () => {
  assert.deepEqual(provisionalIdsIn(`{"a":"${P1}","b":"${P1}","c":"/x/${P2}"} 5 outbox-5`), [P1, P2]);
});

test('a create’s identity: Location first, else the URL member, else the id member under the collection; none when nothing names it', () => {
  const options = { idMember: 'id', urlMember: 'url' as string | undefined };
  const collection = `${ORIGIN}/todos`;
  const response = (headers: Record<string, string> = {}) => new Response(null, { status: 201, headers });
  assert.deepEqual(identityFromAnswer(response({ Location: '/todos/9' }), { id: 9 }, collection, options), { id: 9, url: `${ORIGIN}/todos/9` });
  assert.deepEqual(identityFromAnswer(response(), { url: `${ORIGIN}/todos/abc` }, collection, options), { id: 'abc', url: `${ORIGIN}/todos/abc` });
  assert.deepEqual(identityFromAnswer(response(), { id: 12 }, collection, options), { id: 12, url: `${ORIGIN}/todos/12` });
  assert.equal(identityFromAnswer(response(), { title: 'no id' }, collection, options), undefined);
  assert.equal(identityFromAnswer(response(), undefined, collection, options), undefined);
});

/** A server that makes ids: POST /todos answers 201 with Location and the id; records every request. */
function todoServer() {
  let next = 100;
  const seen: string[] = [];
  return {
    seen,
    async handle(request: Request): Promise<Response> {
      const { pathname } = new URL(request.url);
      const body = request.method === 'DELETE' ? '' : await request.text();
      seen.push(`${request.method} ${pathname} ${body}`.trim());
      if (request.method === 'POST' && pathname === '/todos') {
        const id = ++next;
        return answer(201, { Location: `/todos/${id}`, 'Content-Type': 'application/json' }, JSON.stringify({ ...JSON.parse(body), id }));
      }
      return answer(200, { 'Content-Type': 'application/json' }, body || '{}');
    },
  };
}

test('an offline create gets a provisional identity; its edit and a child wait behind it and go to the real id', async () => {
  const h = harness({ collections: ['/todos', '/todos/*/notes'] });
  const server = todoServer();
  h.state.server = (request) => server.handle(request);
  h.state.online = false;

  const created = await h.write('/todos', { title: 'milk' });
  assert.equal(created.status, 201);
  const todo = (await created.json()) as { id: string; title: string };
  assert.match(todo.id, /^outbox-[0-9a-f-]{36}$/);
  assert.equal(todo.title, 'milk');
  assert.equal(created.headers.get('Location'), `${ORIGIN}/todos/${todo.id}`);
  assert.equal(created.headers.get('Outbox-Queued'), '?1');

  const edited = await h.write(`/todos/${todo.id}`, { completed: true }, {}, 'PATCH');
  assert.equal(edited.status, 202);
  assert.deepEqual(await edited.json(), { completed: true }, 'an edit is answered with its own JSON, nothing a model would adopt');
  await h.write(`/todos/${todo.id}/notes`, { text: 'semi-skimmed', todo: todo.id });
  await h.write('/todos', { title: 'eggs', after: todo.id });

  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(server.seen, [
    'POST /todos {"title":"milk"}',
    'PATCH /todos/101 {"completed":true}',
    'POST /todos/101/notes {"text":"semi-skimmed","todo":101}',
    'POST /todos {"title":"eggs","after":101}',
  ]);
  const identified = h.events.filter((event) => event.type === 'identified');
  assert.deepEqual(identified.map((event) => event.type === 'identified' && [event.provisional.id, event.real]), [[todo.id, { id: 101, url: `${ORIGIN}/todos/101` }], [identified[1]!.type === 'identified' && identified[1]!.provisional.id, { id: 102, url: `${ORIGIN}/todos/102` }]]);
});

test('a create whose answer names no identity: the writes naming it become dead letters, never sent anywhere', async () => {
  const h = harness({ collections: ['/todos'] });
  const seen: string[] = [];
  h.state.online = false;
  const todo = (await (await h.write('/todos', { title: 'milk' })).json()) as { id: string };
  await h.write(`/todos/${todo.id}`, { completed: true }, {}, 'PATCH');
  await h.write('/elsewhere', { ok: 1 });
  h.state.server = (request) => {
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return answer(204);
  };
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(seen, ['POST /todos', 'POST /elsewhere'], 'the edit went nowhere; the lane went on');
  const snapshot = await h.outbox.snapshot(10);
  assert.deepEqual(snapshot.deadLetters.map((entry) => [entry.method, entry.deadCode]), [['PATCH', 'no-identity']]);
  assert.match(snapshot.deadLetters[0]!.deadReason!, /answered with no identity \(HTTP 204 with no Location header and no "id" member\)/);
});

test('an online create gets the server’s own answer; writes elsewhere keep the queued 202 body', async () => {
  const h = harness({ collections: ['/todos'] });
  const server = todoServer();
  h.state.server = (request) => server.handle(request);
  const created = await h.write('/todos', { title: 'milk' });
  assert.equal(created.headers.get('Location'), '/todos/101');
  await h.settle();
  h.state.online = false;
  const queued = await h.write('/elsewhere', { a: 1 });
  const body = (await queued.json()) as Record<string, unknown>;
  assert.equal(queued.status, 202);
  assert.equal(body.id, undefined, 'no id a model library would adopt');
  assert.deepEqual(Object.keys(body), ['queued', 'outbox']);
});

test('a write naming a waiting create goes in the create’s lane, whatever lane it would have had', async () => {
  // Each URL its own lane: without the move, the edit would race its create.
  const h = harness({ collections: ['/todos'] }, { lane: (request) => new URL(request.url).pathname.replaceAll('/', '_') || undefined });
  const server = todoServer();
  h.state.server = (request) => server.handle(request);
  h.state.online = false;
  const todo = (await (await h.write('/todos', { title: 'milk' })).json()) as { id: string };
  await h.write(`/todos/${todo.id}`, { completed: true }, {}, 'PATCH');
  const lanes = (await h.outbox.snapshot(10)).entries.map((entry) => entry.lane);
  assert.equal(lanes[0], lanes[1]);
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(server.seen, ['POST /todos {"title":"milk"}', 'PATCH /todos/101 {"completed":true}']);
});

test('a read of a provisional URL: what the outbox knows while the create waits, the real URL once it is delivered', async () => {
  const h = harness({ collections: ['/todos'] });
  const server = todoServer();
  h.state.server = (request) => server.handle(request);
  h.state.online = false;
  const todo = (await (await h.write('/todos', { title: 'milk' })).json()) as { id: string };
  const waiting = await h.outbox.readProvisional(new Request(`${ORIGIN}/todos/${todo.id}`));
  assert.equal(waiting?.status, 200);
  assert.deepEqual(await waiting!.json(), { title: 'milk', id: todo.id });
  assert.equal(waiting!.headers.get('Outbox-Queued'), '?1');
  const child = await h.outbox.readProvisional(new Request(`${ORIGIN}/todos/${todo.id}/notes`));
  assert.equal(child?.status, 404, 'nothing under it can be read before it exists');
  assert.equal(await h.outbox.readProvisional(new Request(`${ORIGIN}/todos/7`)), undefined, 'no provisional identity: left alone');

  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  const delivered = await h.outbox.readProvisional(new Request(`${ORIGIN}/todos/${todo.id}`));
  assert.equal(delivered?.status, 200);
  assert.equal(h.sent.at(-1)!.url, `${ORIGIN}/todos/101`, 'read from the real URL');
});

test('a DELETE of a record whose create was never tried withdraws the create and the writes to it: nothing is sent; a write naming it elsewhere becomes a dead letter', async () => {
  const h = harness({ collections: ['/todos', '/todos/*/notes'] });
  const server = todoServer();
  h.state.server = (request) => server.handle(request);
  h.state.online = false;
  const todo = (await (await h.write('/todos', { title: 'jam' })).json()) as { id: string };
  await h.write(`/todos/${todo.id}`, { completed: true }, {}, 'PATCH');
  await h.write(`/todos/${todo.id}/notes`, { text: 'strawberry' });
  await h.write('/todos', { title: 'scones', with: todo.id });
  const deleted = await h.write(`/todos/${todo.id}`, undefined, {}, 'DELETE');
  assert.equal(deleted.status, 204);
  assert.equal(deleted.headers.get('Outbox-Withdrawn'), '?1');
  assert.deepEqual((await h.outbox.snapshot(10)).entries.map((entry) => `${entry.method} ${new URL(entry.url).pathname.replace(todo.id, 'P')}`), ['POST /todos']);

  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(server.seen, [], 'neither the create, nor its edit, nor its note; the scones name it and are held');
  const dead = (await h.outbox.snapshot(10)).deadLetters;
  assert.deepEqual(dead.map((entry) => [entry.method, entry.deadCode]), [['POST', 'no-identity']]);
  assert.match(dead[0]!.deadReason!, /deleted on this device before it was sent/);
});

test('a DELETE of a record whose create was tried already is kept, and sent after the create', async () => {
  const h = harness({ collections: ['/todos'] });
  const server = todoServer();
  h.state.server = () => Promise.reject(new TypeError('Failed to fetch'));
  const todo = (await (await h.write('/todos', { title: 'jam' })).json()) as { id: string };
  await h.settle();
  h.state.online = false;
  const deleted = await h.write(`/todos/${todo.id}`, undefined, {}, 'DELETE');
  assert.equal(deleted.status, 202);
  h.state.online = true;
  h.state.server = (request) => server.handle(request);
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(server.seen, ['POST /todos {"title":"jam"}', 'DELETE /todos/101']);
});
