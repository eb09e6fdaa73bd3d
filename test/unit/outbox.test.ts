import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceKeys } from '../../server/device-keys.js';
import { IN_FLIGHT_PROBLEM_TYPE } from '../../contract/problem-types.js';
import { resolveOptions } from '../../sw/resolve-options.js';
import { Outbox } from '../../sw/outbox.js';
import { OutboxStore } from '../../sw/outbox-store.js';
import { answer, harness, ORIGIN, refused, settleWindowAtOnce, until, type Server } from '../support/outbox-harness.js';

test('an online write with an empty queue: one transaction before the request goes out, the rest after the answer', async () => {
  const h = harness();
  const response = await h.write('/api/items', { a: 1 });
  assert.equal(response.status, 201);
  assert.deepEqual(h.steps.slice(0, 2), ['add', 'fetch']);
  await h.settle();
  assert.deepEqual(h.steps, ['add', 'fetch', 'commit']);
  assert.deepEqual(h.types(), ['queued', 'sending', 'sent', 'drained']);
  assert.deepEqual(h.events.at(-1)?.counts, { pending: 0, deadLetters: 0, conflicts: 0 });
  const [request] = h.sent;
  assert.match(request!.headers.get('Idempotency-Key') ?? '', /^"[0-9a-f-]{36}"$/);
  assert.equal(request!.headers.get('Outbox-Sequence'), '1');
  assert.equal(request!.headers.get('Outbox-Lane'), null, 'the default lane is not stamped');
  assert.equal(await request!.text(), '{"a":1}');
});

test('writes one after another: each one’s transaction carries the previous answer, and no other commit runs between them', async () => {
  const h = harness();
  for (const n of [1, 2, 3]) assert.equal((await h.write(`/api/items/${n}`)).status, 201);
  await h.settle();
  assert.deepEqual(h.steps, ['add', 'fetch', 'add at once', 'fetch', 'add at once', 'fetch', 'commit']);
  assert.deepEqual(h.events.at(-1)?.counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('a write behind one in flight waits its turn in its lane, then gets its own answer', async () => {
  const h = harness();
  let releaseFirst: (response: Response) => void = () => {};
  h.state.server = (request) => (request.url.endsWith('/first') ? new Promise((resolve) => (releaseFirst = resolve)) : answer(201, {}, 'second'));
  const first = h.write('/api/first');
  await until(() => h.sent.length === 1, 'the first write sent');
  const second = h.write('/api/second');
  await until(() => h.types().filter((type) => type === 'queued').length === 2, 'the second write stored');
  assert.deepEqual(h.sent.map((request) => new URL(request.url).pathname), ['/api/first']);
  releaseFirst(new Response('first', { status: 201 }));
  assert.equal(await (await first).text(), 'first');
  assert.equal(await (await second).text(), 'second');
  await h.settle();
  assert.deepEqual(h.sent.map((request) => request.headers.get('Outbox-Sequence')), ['1', '2']);
});

test('a waiting write folded into a later one: its page is answered queued at once, not when the write ahead of it is', async () => {
  const h = harness({ fold: ['/api/items/*'] });
  let releaseFirst: (response: Response) => void = () => {};
  h.state.server = (request) => (request.url.endsWith('/first') ? new Promise((resolve) => (releaseFirst = resolve)) : answer(200, {}, request.url));
  const first = h.write('/api/first');
  await until(() => h.sent.length === 1, 'the first write sent');
  let replacedAnswered = false;
  const replaced = h.write('/api/items/1', { name: 'T' }, {}, 'PUT').then((response) => ((replacedAnswered = true), response));
  await until(() => h.types().filter((type) => type === 'queued').length === 2, 'the first PUT stored');
  void h.write('/api/items/1', { name: 'Tea' }, {}, 'PUT');
  await until(() => replacedAnswered, 'the replaced write’s page answered');
  assert.equal((await replaced).status, 202);
  assert.deepEqual(h.types().filter((type) => type === 'folded').length, 1);
  releaseFirst(new Response('first', { status: 201 }));
  await first;
  await h.settle();
  assert.deepEqual(h.sent.map((request) => `${request.method} ${new URL(request.url).pathname}`), ['POST /api/first', 'PUT /api/items/1']);
});

test('offline (navigator.onLine false): a write costs one transaction and no attempt, and is answered queued at once', async () => {
  const h = harness();
  h.state.online = false;
  const response = await h.write('/api/items');
  assert.equal(response.status, 202);
  assert.equal(response.headers.get('Outbox-Queued'), '?1');
  await h.settle();
  assert.deepEqual(h.steps, ['add']);
  assert.deepEqual(h.types(), ['queued']);
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(h.types(), ['queued', 'sending', 'sent', 'drained']);
});

test('a burst of writes behind a head that waits for the network makes one probe, not one each', async () => {
  const h = harness();
  h.state.server = refused;
  assert.equal((await h.write('/api/head')).status, 202);
  await h.settle();
  assert.equal(h.sent.length, 1);
  const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => h.write(`/api/burst-${i}`)));
  await h.settle();
  assert.deepEqual(burst.map((response) => response.status), [202, 202, 202, 202, 202]);
  assert.deepEqual(h.sent.map((request) => new URL(request.url).pathname), ['/api/head', '/api/head'], 'one probe of the head for the whole burst');
  // The network is back: the next sign of it sends all six, in order.
  h.state.server = (request) => answer(201, {}, request.url);
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(h.sent.slice(2).map((request) => request.headers.get('Outbox-Sequence')), ['1', '2', '3', '4', '5', '6']);
  assert.equal(h.types().at(-1), 'drained');
});

test('a 503 with Retry-After holds its lane, tells the lane’s pages "queued", and the worker’s timer sends it when due', async () => {
  const h = harness({ retryMaxMs: 5_000 });
  const replies = [answer(503, { 'Retry-After': '30' }), answer(201), answer(201)];
  h.state.server = () => replies.shift()!;
  assert.equal((await h.write('/api/a')).status, 202);
  assert.equal((await h.write('/api/b')).status, 202, 'behind a held head, the page is told at once');
  await h.settle();
  assert.equal(h.sent.length, 1);
  // A forced replay does not cut short a wait the server asked for.
  await h.outbox.replay('page');
  assert.equal(h.sent.length, 1);
  assert.equal(h.clock.next, h.clock.at + 30_000);
  h.clock.advance(30_000);
  await h.outbox.replay('timer');
  await h.settle();
  assert.deepEqual(h.sent.map((request) => new URL(request.url).pathname), ['/api/a', '/api/a', '/api/b']);
  const scheduled = h.events.find((event) => event.type === 'retry-scheduled');
  assert.equal(scheduled?.type === 'retry-scheduled' && scheduled.error, 'HTTP 503');
});

test('a write whose key may still be committing is never dead-lettered or re-keyed: a timeout, then "still in flight" 409s, then its answer', { timeout: 5_000 }, async () => {
  // A minute's timeout, on the injected clock: the attempt's own timer is the outbox's, not the real one.
  const h = harness({ timeoutMs: 60_000, maxAttempts: 2 });
  const inFlight = () => answer(409, { 'Content-Type': 'application/problem+json' }, JSON.stringify({ type: IN_FLIGHT_PROBLEM_TYPE, title: 'A request with this Idempotency-Key is being processed' }));
  const replies: Server[] = [
    (request) => new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
    inFlight, inFlight, inFlight, inFlight,
    () => answer(201, {}, 'committed'),
  ];
  h.state.server = (request) => replies.shift()!(request);
  const written = h.write('/api/slow');
  await until(() => h.sent.length === 1, 'the first attempt is out');
  h.clock.advance(60_000);
  assert.equal((await written).status, 202);
  await h.settle();
  while (replies.length > 0) {
    const next = h.clock.next;
    assert.ok(next !== undefined, 'a retry is scheduled while the server has replies left');
    h.clock.advance(next - h.clock.at);
    await h.settle();
    await h.outbox.replay('timer');
    await h.settle();
  }
  assert.equal(h.types().includes('dead-lettered'), false);
  assert.deepEqual(new Set(h.sent.map((request) => request.headers.get('Idempotency-Key'))).size, 1);
  assert.equal(h.sent.length, 6, 'more "in flight" answers than maxAttempts allows retryable ones');
  assert.equal(h.types().at(-1), 'drained');
});

test('lanes go side by side up to concurrency; order holds within each', async () => {
  const h = harness({ concurrency: 2 });
  const held: (() => void)[] = [];
  h.state.server = (request) => new Promise((resolve) => held.push(() => resolve(new Response(request.url, { status: 201 }))));
  const writes = ['a', 'b', 'c', 'a'].map((lane, i) => h.write(`/api/${lane}/${i}`, {}, { 'Outbox-Lane': lane }));
  await until(() => h.types().filter((type) => type === 'queued').length === 4, 'all four stored');
  assert.deepEqual(h.sent.map((request) => new URL(request.url).pathname), ['/api/a/0', '/api/b/1']);
  for (let answered = 0; answered < 4; answered++) {
    await until(() => held.length > 0, `attempt ${answered + 1}`);
    held.shift()!();
  }
  await Promise.all(writes);
  await h.settle();
  const order = h.sent.map((request) => new URL(request.url).pathname);
  assert.deepEqual(order.slice(0, 2), ['/api/a/0', '/api/b/1']);
  assert.ok(order.indexOf('/api/a/3') > order.indexOf('/api/a/0'));
  assert.deepEqual(h.sent.map((request) => request.headers.get('Outbox-Lane')).sort(), ['a', 'a', 'b', 'c']);
});

test('the lane hook picks a lane when the request names none', async () => {
  const h = harness({}, { lane: (request) => new URL(request.url).pathname.split('/')[2] });
  await h.write('/api/photos/1');
  await h.write('/api/notes/1', {}, { 'Outbox-Lane': 'chosen' });
  await h.settle();
  assert.deepEqual(h.sent.map((request) => request.headers.get('Outbox-Lane')), ['photos', 'chosen']);
});

test('cancel: a waiting write becomes a dead letter with reason cancelled, and the writes behind it go on', async () => {
  const h = harness();
  h.state.server = refused;
  await h.write('/api/stuck');
  await h.write('/api/behind');
  await h.settle();
  h.state.server = (request) => answer(201, {}, request.url);
  await h.outbox.cancel(1);
  await h.outbox.replay('timer');
  await h.settle();
  assert.deepEqual(h.sent.map((request) => new URL(request.url).pathname).slice(-1), ['/api/behind']);
  const dead = h.events.find((event) => event.type === 'dead-lettered');
  assert.equal(dead?.type === 'dead-lettered' && dead.entry.deadCode, 'cancelled');
  const snapshot = await h.outbox.snapshot(10);
  assert.deepEqual(snapshot.counts, { pending: 0, deadLetters: 1, conflicts: 0 });
  await h.outbox.discard(1);
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('retry: a refused dead letter keeps its id, goes back at the tail with a new sequence number and a new key, and is sent', async () => {
  const h = harness();
  h.state.server = refused;
  await h.write('/api/x');
  await h.settle();
  h.state.server = () => answer(400);
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual((await h.outbox.snapshot(5)).deadLetters.map((entry) => entry.deadCode), ['rejected']);
  const firstKey = h.sent[0]!.headers.get('Idempotency-Key');
  h.state.server = () => answer(201);
  assert.deepEqual(await h.outbox.retry(1).then(({ id, seq }) => [id, seq]), [1, 2]);
  await h.settle();
  await h.outbox.replay('timer');
  assert.notEqual(h.sent.at(-1)!.headers.get('Idempotency-Key'), firstKey);
  assert.equal(h.sent.at(-1)!.headers.get('Outbox-Sequence'), '2');
  assert.deepEqual((await h.outbox.snapshot(5)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('a new worker on the same store sends what an earlier one left, from its start, and ends with the store’s counts', async () => {
  const h = harness();
  h.state.online = false;
  await h.write('/api/1');
  await h.write('/api/2');
  const sent: string[] = [];
  const next = new Outbox(resolveOptions({}), {}, {
    store: new OutboxStore(ORIGIN, h.name),
    publish: () => {},
    fetch: (request) => {
      sent.push(request.headers.get('Outbox-Sequence')!);
      return answer(201);
    },
    now: h.clock.now, random: Math.random, timer: settleWindowAtOnce(h.clock.timer), log: () => {}, origin: ORIGIN, online: () => true,
  });
  await next.replay('start');
  assert.deepEqual(sent, ['1', '2']);
  assert.deepEqual((await next.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('when the disk has no room for a claim’s bookkeeping, the due writes are sent anyway, unrecorded, and settled; pages are told', async () => {
  const h = harness();
  h.state.online = false;
  await h.write('/api/kept-1');
  await h.write('/api/kept-2');
  // From now on every commit that would claim (and so write) is refused; deletes go through.
  const commit = h.store.commit.bind(h.store);
  h.store.commit = (changes, claim) => (claim ? Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError')) : commit(changes));
  h.state.online = true;
  await h.outbox.replay('page');
  await until(() => h.sent.length === 2, 'both kept writes sent');
  await h.outbox.replay('timer');
  assert.deepEqual(h.sent.map((request) => new URL(request.url).pathname), ['/api/kept-1', '/api/kept-2']);
  const full = h.events.filter((event) => event.type === 'storage-full');
  assert.ok(full.length > 0 && full.every((event) => event.type === 'storage-full' && event.kept));
  assert.deepEqual((await h.outbox.snapshot(5)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('a conflict holds its lane until resolved: keep mine sends it in its place with a new key and If-Match on the current version; keep theirs drops it', async () => {
  const h = harness();
  h.state.online = false;
  for (const n of [1, 2]) await h.write(`/api/items/${n}`, { n }, { 'if-match': '"1"' });
  await h.write('/api/other', {}, { 'outbox-lane': 'other' });
  h.state.online = true;
  h.state.server = (request) =>
    request.url.endsWith('/items/1') && request.headers.get('if-match') === '"1"'
      ? answer(412, { ETag: '"5"', 'Content-Type': 'application/json' }, JSON.stringify({ n: 'theirs' }))
      : answer(200, {}, request.url);
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(h.sent.map((request) => new URL(request.url).pathname), ['/api/items/1', '/api/other'], 'the write behind the conflict waits; another lane goes on');
  const snapshot = await h.outbox.snapshot(10);
  assert.deepEqual(snapshot.counts, { pending: 1, deadLetters: 0, conflicts: 1 });
  assert.deepEqual(snapshot.conflicts.map((entry) => [entry.id, entry.conflict]), [[1, { status: 412, etag: '"5"' }]]);
  assert.deepEqual(snapshot.lanes.map((lane) => [lane.head, lane.state, lane.waiting]), [[1, 'conflict', 2]]);
  assert.deepEqual(await h.outbox.conflict(1), { entry: snapshot.conflicts[0], ours: { n: 1 }, theirs: { n: 'theirs' }, contentType: 'application/json' });

  // Nothing but the app's choice moves it: a day of replays sends nothing.
  h.clock.advance(86_400_000);
  await h.outbox.replay('page');
  await h.settle();
  assert.equal(h.sent.length, 2);

  const firstKey = h.sent[0]!.headers.get('Idempotency-Key');
  const again = await h.outbox.resolve(1, { keep: 'mine' });
  await h.settle();
  assert.equal(again?.state, 'pending');
  assert.deepEqual(h.sent.slice(2).map((request) => [new URL(request.url).pathname, request.headers.get('if-match'), request.headers.get('Outbox-Sequence')]), [['/api/items/1', '"5"', '1'], ['/api/items/2', '"1"', '2']]);
  assert.notEqual(h.sent[2]!.headers.get('Idempotency-Key'), firstKey);
  assert.equal(await h.sent[2]!.text(), '{"n":1}');
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
  assert.ok(h.types().includes('resolved'));

  // Keep theirs: dropped, reported as superseded, and its lane goes on.
  h.state.online = false;
  await h.write('/api/items/1', { n: 3 }, { 'if-match': '"1"' });
  await h.write('/api/items/9', { n: 9 });
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  const [conflict] = (await h.outbox.snapshot(10)).conflicts;
  assert.equal(await h.outbox.resolve(conflict!.id, { keep: 'theirs' }), undefined);
  await h.settle();
  assert.deepEqual(h.sent.slice(4).map((request) => new URL(request.url).pathname), ['/api/items/1', '/api/items/9']);
  assert.deepEqual(h.events.filter((event) => event.type === 'resolved').map((event) => event.type === 'resolved' && event.how), ['mine', 'theirs']);
  await assert.rejects(h.outbox.resolve(conflict!.id, { keep: 'mine' }), /not-found|has no entry/);
  await assert.rejects(h.outbox.resolve(2, { keep: 'yours' } as never), (error: Error & { code?: string }) => error.code === 'invalid-resolution' && /keep must be "mine" or "theirs", not "yours"/.test(error.message));
});

test('a conflict whose answer gave no ETag nor body: theirs and the current ETag come from a GET of the URL, with the write\'s headers but no precondition', async () => {
  const h = harness();
  h.state.online = false;
  await h.write('/api/items/1', { n: 1 }, { 'if-match': '"1"', authorization: 'Bearer t' });
  h.state.online = true;
  h.state.server = (request) => {
    if (request.method === 'GET') return answer(200, { ETag: '"8"', 'Content-Type': 'application/json' }, '{"n":"current"}');
    return request.headers.get('if-match') === '"8"' ? answer(200) : answer(412);
  };
  await h.outbox.replay('page');
  await h.settle();
  assert.equal((await h.outbox.conflict(1)).theirs && JSON.stringify((await h.outbox.conflict(1)).theirs), '{"n":"current"}');
  const get = h.sent.find((request) => request.method === 'GET')!;
  assert.deepEqual([get.headers.get('authorization'), get.headers.get('if-match'), get.headers.get('content-type')], ['Bearer t', null, null]);
  await h.outbox.resolve(1, { json: { n: 'merged' } });
  await h.settle();
  const last = h.sent.at(-1)!;
  assert.deepEqual([last.method, last.headers.get('if-match'), await last.text()], ['POST', '"8"', '{"n":"merged"}']);
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

/** A JSON resource that refuses a stale If-Match with a bare 412, as a server with no merging of its own does. */
function documentServer(initial: Record<string, unknown>) {
  const doc = { version: 1, body: initial };
  const handle: Server = async (request) => {
    if (request.method === 'GET') return answer(200, { ETag: `"${doc.version}"`, 'Content-Type': 'application/json' }, JSON.stringify(doc.body));
    if (request.headers.get('if-match') !== `"${doc.version}"`) return answer(412);
    const sent = (await request.json()) as Record<string, unknown>;
    doc.body = request.method === 'PATCH' ? { ...doc.body, ...sent } : sent;
    doc.version += 1;
    return answer(200, { ETag: `"${doc.version}"`, 'Content-Type': 'application/json' }, JSON.stringify(doc.body));
  };
  return { doc, handle };
}
const put = (path: string, body: unknown, ifMatch: string, type = 'application/json') =>
  new Request(`${ORIGIN}${path}`, { method: path.includes('patch') ? 'PATCH' : 'PUT', body: JSON.stringify(body), headers: { 'content-type': type, 'if-match': ifMatch } });

test('merge policy: a conflict is merged member by member from the version the write was made to, which the outbox kept; a clash is left to the app', async () => {
  const h = harness({ merge: ['/api/docs/'] });
  const server = documentServer({ title: 'Trip', place: 'Oslo', days: 3 });
  h.state.server = server.handle;
  // The app reads the document through the worker: the outbox keeps that version.
  await h.outbox.keepRepresentation(`${ORIGIN}/api/docs/1`, await server.handle(new Request(`${ORIGIN}/api/docs/1`)));
  h.state.online = false;
  await h.outbox.handle(put('/api/docs/1', { title: 'Trip', place: 'Bergen', days: 3 }, '"1"'), (promise) => void promise);
  // Meanwhile someone else changes another member.
  server.doc.body = { ...server.doc.body, days: 5 };
  server.doc.version = 2;
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  await until(() => h.events.some((event) => event.type === 'resolved'), 'the merge');
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(server.doc.body, { title: 'Trip', place: 'Bergen', days: 5 }, 'both changes stand');
  assert.deepEqual(h.events.filter((event) => event.type === 'resolved').map((event) => event.type === 'resolved' && event.how), ['merged']);
  const last = h.sent.filter((request) => request.method === 'PUT').at(-1)!;
  assert.equal(last.headers.get('if-match'), '"2"');

  // The answer to the merged write is kept too: the next write starts from it. Both change `place`: a clash.
  h.state.online = false;
  await h.outbox.handle(put('/api/docs/1', { title: 'Trip', place: 'Tromsø', days: 5 }, '"3"'), (promise) => void promise);
  server.doc.body = { ...server.doc.body, place: 'Ålesund' };
  server.doc.version = 4;
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  await until(() => h.logs.some((line) => line.includes('not merged: both changed /place')), 'the merge to find the clash');
  const { conflicts, counts } = await h.outbox.snapshot(10);
  assert.equal(counts.conflicts, 1, 'left to the app');
  const details = await h.outbox.conflict(conflicts[0]!.id);
  assert.deepEqual([details.base, details.ours, details.theirs], [{ title: 'Trip', place: 'Bergen', days: 5 }, { title: 'Trip', place: 'Tromsø', days: 5 }, { title: 'Trip', place: 'Ålesund', days: 5 }]);
});

test('keepTheirs and keepMine paths settle their conflicts at once; a resolve hook decides before either', async () => {
  const h = harness({ keepTheirs: ['/api/presence/'], keepMine: ['/api/drafts/'] }, { resolve: (conflict) => (new URL(conflict.entry.url).pathname === '/api/drafts/hooked' ? { json: { hooked: true } } : undefined) });
  const server = documentServer({ text: 'theirs' });
  const bodies = new Map<Request, string>();
  h.state.server = async (request) => {
    bodies.set(request, await request.clone().text());
    return server.handle(request);
  };
  h.state.online = false;
  for (const path of ['/api/presence/1', '/api/drafts/1', '/api/drafts/hooked']) await h.outbox.handle(put(path, { text: 'mine' }, '"0"'), (promise) => void promise);
  h.state.online = true;
  await h.outbox.replay('page');
  const resent = () => h.sent.filter((request) => request.method === 'PUT' && request.headers.get('if-match') !== '"0"');
  await until(() => h.events.filter((event) => event.type === 'resolved').length === 3 && resent().length === 2, 'all three resolved, two sent again');
  await until(() => h.events.at(-1)?.type === 'drained', 'drained');
  const how = Object.fromEntries(h.events.filter((event) => event.type === 'resolved').map((event) => event.type === 'resolved' && [new URL(event.entry.url).pathname, event.how]) as [string, string][]);
  assert.deepEqual(how, { '/api/presence/1': 'theirs', '/api/drafts/1': 'mine', '/api/drafts/hooked': 'body' });
  assert.deepEqual(resent().map((request) => [new URL(request.url).pathname, bodies.get(request)]), [['/api/drafts/1', '{"text":"mine"}'], ['/api/drafts/hooked', '{"hooked":true}']]);
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
  assert.throws(() => resolveOptions({ conflicts: { merge: ['/api/'], mine: ['/api/'] } }), /option "conflicts.merge" has "\/api\/", which conflicts.mine has too/);
});

test('credentials are never stored: kept in memory for the worker\'s own attempts; a 401 holds the lane as needs-auth until credentials change, then the hook gives fresh ones', async () => {
  let token = 'old';
  const h = harness({}, { credentials: () => ({ Authorization: `Bearer ${token}` }) });
  h.state.server = (request) => answer(request.headers.get('authorization') === 'Bearer new' ? 201 : 401);
  h.state.online = false;
  for (const n of [1, 2]) await h.write(`/api/items/${n}`, { n }, { authorization: 'Bearer old-marker' });
  const { openDB } = await import('idb');
  const db = await openDB(h.name);
  const stored = JSON.stringify([await db.getAll('entries'), await db.getAll('requests')]);
  db.close();
  assert.ok(!stored.includes('old-marker'), 'no credential value in IndexedDB');
  assert.ok(stored.includes('"credentialNames":["authorization"]'));

  // The session ended while offline: the first write gets 401 with the token it was made
  // with, asks the hook at once, and is refused again with the hook's.
  h.state.online = true;
  await h.outbox.replay('page');
  await until(() => h.types().includes('needs-auth') && h.sent.length === 2, 'refused twice');
  await h.settle();
  assert.deepEqual(h.sent.map((request) => request.headers.get('authorization')), ['Bearer old-marker', 'Bearer old']);
  const waiting = await h.outbox.snapshot(10);
  assert.deepEqual([waiting.counts, waiting.lanes[0]?.state, waiting.entries.map((entry) => entry.state)], [{ pending: 2, deadLetters: 0, conflicts: 0 }, 'needs-auth', ['needs-auth', 'pending']]);
  assert.ok(h.types().includes('needs-auth'));

  // A sign-in: the page says credentials changed; the hook gives the new token to both writes, in order.
  token = 'new';
  await h.outbox.credentialsChanged();
  await until(() => h.events.at(-1)?.type === 'drained', 'both sent');
  assert.deepEqual(h.sent.slice(2).map((request) => [new URL(request.url).pathname, request.headers.get('authorization')]), [['/api/items/1', 'Bearer new'], ['/api/items/2', 'Bearer new']]);
  const keys = h.sent.slice(0, 3).map((request) => request.headers.get('idempotency-key'));
  assert.equal(new Set(keys).size, 3, 'a new key each time: a 401 may be kept for the old one');
  assert.ok(h.types().includes('resumed'));
});

test('a token refreshed while offline: credentialsChanged() makes the worker forget the one it holds, so the first attempt asks again and goes with the fresh one', async () => {
  let token = 'stale';
  const h = harness({}, { credentials: () => ({ Authorization: `Bearer ${token}` }) });
  h.state.server = (request) => answer(request.headers.get('authorization') === 'Bearer fresh' ? 201 : 401);
  h.state.online = false;
  for (const n of [1, 2]) await h.write(`/api/items/${n}`, { n }, { authorization: 'Bearer stale' });
  // The app refreshes its token offline and says so, as the README teaches; then the network is back.
  token = 'fresh';
  await h.outbox.credentialsChanged();
  h.state.online = true;
  await h.outbox.replay('page');
  await until(() => h.events.at(-1)?.type === 'drained', 'both sent');
  assert.deepEqual(h.sent.map((request) => request.headers.get('authorization')), ['Bearer fresh', 'Bearer fresh'], 'never the stale token the worker held');
  assert.ok(!h.types().includes('needs-auth'));
});

test('a token the app refreshed without saying so: the stale one the worker held is refused, and the write asks again at once, with no trigger, and goes with the fresh one', async () => {
  let token = 'stale';
  const h = harness({}, { credentials: () => ({ Authorization: `Bearer ${token}` }) });
  h.state.server = (request) => answer(request.headers.get('authorization') === 'Bearer fresh' ? 201 : 401);
  h.state.online = false;
  for (const n of [1, 2]) await h.write(`/api/items/${n}`, { n }, { authorization: 'Bearer stale' });
  token = 'fresh'; // no credentialsChanged()
  h.state.online = true;
  await h.outbox.replay('page');
  await until(() => h.events.at(-1)?.type === 'drained', 'both sent');
  assert.deepEqual(h.sent.map((request) => request.headers.get('authorization')), ['Bearer stale', 'Bearer fresh', 'Bearer fresh'], 'the stale one once, then never again');
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('a page that registers onCredentials sends the writes waiting for credentials again, asking it', async () => {
  let offered: Record<string, string> | null = null;
  const h = harness({}, {}, { askPages: async () => offered });
  h.state.server = (request) => answer(request.headers.get('authorization') === 'Bearer fresh' ? 201 : 401);
  h.state.online = false;
  await h.write('/api/items/1', { n: 1 }, { authorization: 'Bearer stale' });
  h.state.online = true;
  await h.outbox.replay('page');
  await until(() => h.types().includes('needs-auth'), 'refused');
  await h.settle();
  offered = { Authorization: 'Bearer fresh' };
  h.outbox.credentialsOffered();
  await until(() => h.events.at(-1)?.type === 'drained', 'sent');
  assert.deepEqual(h.sent.map((request) => request.headers.get('authorization')), ['Bearer stale', 'Bearer fresh'], 'no page gave any when asked again: not sent without');
});

test('a page opening within a second of another is put off to the second’s end, not dropped: the page after a quick sign-in sends the waiting writes', async () => {
  let signedIn = false;
  const h = harness();
  h.state.server = () => answer(signedIn ? 201 : 401);
  h.state.online = false;
  await h.write('/api/items/1', { n: 1 });
  h.state.online = true;
  await h.outbox.replay('page');
  await until(() => h.types().includes('needs-auth'), 'refused');
  h.outbox.pageOpened(); // the sign-in page opens: refused again
  await until(() => h.sent.length === 2 && h.types().filter((type) => type === 'needs-auth').length === 2, 'refused again');
  signedIn = true;
  h.outbox.pageOpened(); // the app's page, a moment later
  await h.settle();
  assert.equal(h.sent.length, 2, 'not within the second');
  h.clock.advance(1_000);
  await until(() => h.events.at(-1)?.type === 'drained', 'sent once the second is over');
  assert.equal(h.sent.length, 3);
});

test('credentials offered while an attempt is out are not lost: refused, the write goes again with them', async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const h = harness();
  h.state.server = (request) => (h.sent.length === 1 ? held.then(() => answer(401)) : answer(201, {}, request.url));
  h.state.online = false;
  await h.write('/api/items/1', { n: 1 });
  h.state.online = true;
  void h.outbox.replay('page');
  await until(() => h.sent.length === 1, 'the attempt is out');
  h.clock.advance(10);
  h.outbox.credentialsOffered(); // a page registers onCredentials as the attempt waits: nothing waits for credentials yet
  await h.settle();
  release();
  await until(() => h.events.at(-1)?.type === 'drained', 'sent again, and answered');
  assert.equal(h.sent.length, 2);
});

test('a page opening sends the writes waiting for a session again, but keeps the credentials the worker holds for the others', async () => {
  const h = harness({}, { credentials: () => ({ Authorization: 'Bearer from-the-hook' }) });
  h.state.server = (request) => answer(request.headers.get('authorization') === 'Bearer held' ? 201 : 401);
  h.state.online = false;
  await h.write('/api/items/1', { n: 1 }, { authorization: 'Bearer held' });
  h.outbox.pageOpened();
  await until(() => h.steps.includes('commit'), 'the page opening’s replay');
  h.state.online = true;
  await h.outbox.replay('page');
  await until(() => h.events.at(-1)?.type === 'drained', 'sent');
  assert.deepEqual(h.sent.map((request) => request.headers.get('authorization')), ['Bearer held']);
});

test('per-user outboxes: a user\'s writes go only while they are signed in, in lanes of their own, seen only by them; purge erases them; flush sends them first', async () => {
  const h = harness();
  await h.outbox.signIn('ann');
  h.state.online = false;
  for (const n of [1, 2]) await h.write(`/api/a/${n}`, { n });
  const { kept } = await h.outbox.signOut();
  assert.equal(kept, 2);

  // Bo signs in and writes; the network returns: only Bo's write goes, stamped as Bo's.
  await h.outbox.signIn('bo');
  const sinceBo = h.events.length;
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 }, "Ann's writes are not Bo's to see");
  await h.write('/api/b/1', { n: 1 });
  h.state.online = true;
  await h.outbox.replay('page');
  await h.settle();
  assert.deepEqual(h.sent.map((request) => [new URL(request.url).pathname, request.headers.get('outbox-user'), request.headers.get('outbox-lane')]), [['/api/b/1', 'bo', null]]);
  assert.ok(h.events.slice(sinceBo).every((event) => !('entry' in event) || event.entry.user !== 'ann'), "no message about Ann's writes while Bo is signed in");

  // Ann again: hers go once, in order, with her name.
  await h.outbox.signIn('ann');
  await h.settle();
  await until(() => h.sent.length === 3, "Ann's two writes");
  assert.deepEqual(h.sent.slice(1).map((request) => [new URL(request.url).pathname, request.headers.get('outbox-user')]), [['/api/a/1', 'ann'], ['/api/a/2', 'ann']]);

  // Purge: Ann's waiting writes are deleted, bodies and all.
  h.state.online = false;
  await h.write('/api/a/3', { secret: 'ann-purged-marker' });
  assert.deepEqual(await h.outbox.signOut('purge'), { sent: 0, kept: 0, purged: 1 });
  const { openDB } = await import('idb');
  const db = await openDB(h.name);
  const left = JSON.stringify([await db.getAll('entries'), (await db.getAll('requests')).map((request) => new TextDecoder().decode(request.body ?? new ArrayBuffer(0)))]);
  db.close();
  assert.ok(!left.includes('ann-purged-marker') && !left.includes('"user":"ann"'), 'nothing of hers is left');

  // Flush: her writes are sent before sign-out completes.
  await h.outbox.signIn('ann');
  await h.write('/api/a/4', { n: 4 });
  h.state.online = true;
  const flushed = await h.outbox.signOut('flush', 5_000);
  assert.deepEqual(flushed, { sent: 1, kept: 0, purged: 0 });
  assert.equal(new URL(h.sent.at(-1)!.url).pathname, '/api/a/4');
  await assert.rejects(h.outbox.signIn('has space'), /a user id is 1 to 200 visible ASCII characters/);
});

test('encryption at rest: a conflict\'s write and "theirs" are stored sealed, read back for the page, and the resolution is sealed too', async () => {
  const keys = new DeviceKeys();
  const h = harness({ encryptionKeyUrl: '/outbox-key' });
  const keyEndpoint: Server = async (request) => {
    const text = await request.text();
    const reply = await keys.answer({ method: request.method, query: new URL(request.url).searchParams, body: text ? JSON.parse(text) : null, user: 'ana' });
    return new Response(reply.status === 204 ? null : String(reply.body), { status: reply.status, headers: reply.headers });
  };
  h.state.server = (request) => (request.url.includes('/outbox-key') ? keyEndpoint(request) : refused(request));
  h.state.online = false;
  assert.equal((await h.write('/api/items/1', { n: 'ours-marker' }, { 'if-match': '"1"' })).status, 202);
  h.state.online = true;
  h.state.server = (request) => {
    if (request.url.includes('/outbox-key')) return keyEndpoint(request);
    if (request.headers.get('if-match') === '"1"') return answer(412, { ETag: '"5"', 'Content-Type': 'application/json' }, JSON.stringify({ n: 'theirs-marker' }));
    return answer(200, {}, request.url);
  };
  await h.outbox.replay('page');
  await h.settle();
  const stored = await new Promise<string>((resolve) => {
    indexedDB.open(h.name).onsuccess = (event) => {
      const all = (event.target as IDBOpenDBRequest).result.transaction('requests').objectStore('requests').getAll();
      all.onsuccess = () => resolve(all.result.map((record: { sealed?: { data: ArrayBuffer } }) => (record.sealed ? new TextDecoder('latin1').decode(record.sealed.data) : JSON.stringify(record))).join());
    };
  });
  assert.ok(!stored.includes('ours-marker') && !stored.includes('theirs-marker') && !stored.includes('if-match'), 'sealed: no body, header or theirs readable');
  const conflict = await h.outbox.conflict(1);
  assert.deepEqual([conflict.ours, conflict.theirs], [{ n: 'ours-marker' }, { n: 'theirs-marker' }]);
  await h.outbox.resolve(1, { keep: 'mine' });
  await h.settle();
  const resent = h.sent.filter((request) => request.url.endsWith('/api/items/1')).at(-1)!;
  assert.equal(resent.headers.get('if-match'), '"5"');
  assert.equal(await resent.text(), '{"n":"ours-marker"}');
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('a sign that the network is back, arriving while an attempt is failing for want of it, is not lost: the write goes again at once', async () => {
  const h = harness({ retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });
  let fail: (error: Error) => void = () => {};
  h.state.server = () => new Promise<Response>((_, reject) => (fail = reject));
  const answered = h.write('/api/items', { a: 1 });
  await until(() => h.sent.length === 1, 'the first attempt');
  // The page's online event, or the sync event, while that attempt is still out.
  h.clock.advance(5);
  void h.outbox.replay('sync');
  // Its claim finds the lane busy, and is over before the attempt fails.
  await until(() => h.steps.includes('commit'), 'the sync’s claim');
  await new Promise((resolve) => setImmediate(resolve));
  h.state.server = () => answer(201);
  fail(new TypeError('Failed to fetch'));
  await answered;
  await until(() => h.sent.length === 2, 'a second attempt, without waiting out the day-long backoff');
  await h.settle();
  assert.deepEqual((await h.outbox.snapshot(10)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
});

test('an attempt that fails with no sign since it started waits out its backoff', async () => {
  const h = harness({ retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });
  h.state.server = refused;
  await h.write('/api/items', { a: 1 });
  await h.settle();
  assert.equal(h.sent.length, 1, 'one attempt: the write that triggered it came before it started');
  assert.equal((await h.outbox.snapshot(10)).counts.pending, 1);
});
