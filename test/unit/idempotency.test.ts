import assert from 'node:assert/strict';
import { IN_FLIGHT_PROBLEM_TYPE, USER_MISMATCH_PROBLEM_TYPE } from '../../contract/problem-types.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { checkOutboxUser, Idempotency, idempotent, json, MemoryIdempotencyStore, parseIdempotencyKey, type KeyedRequest, type Reply } from '../../server/index.js';

/** A real server whose POST /things applies once per key, and can be held mid-write. */
describe('idempotent() on a node:http server', () => {
  let server: http.Server;
  let base: string;
  let applied: string[] = [];
  let hold: Promise<void> | undefined;
  let onEnter = () => {};

  before(async () => {
    server = http.createServer(
      idempotent(async (request) => {
        if (request.method === 'GET') return json(200, applied);
        onEnter();
        await hold;
        if (request.body === 'explode') return json(503, { error: 'try later' });
        applied.push(request.body);
        return json(201, { n: applied.length }, { location: `/things/${applied.length}` });
      }, { required: true }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  beforeEach(() => {
    applied = [];
    hold = undefined;
    onEnter = () => {};
  });

  const post = (key: string | undefined, body: string) =>
    fetch(`${base}/things`, { method: 'POST', body, headers: key === undefined ? {} : { 'Idempotency-Key': key } });

  test('a browser’s own form post without a key gets a readable HTML page; an API client, problem+json', async () => {
    const form = await fetch(`${base}/things`, { method: 'POST', body: 'note=hi', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(form.status, 400);
    assert.match(form.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await form.text(), /<h1>Idempotency-Key is missing<\/h1><p>POST \/things changes data/);
    const api = await post(undefined, 'x');
    assert.equal(api.headers.get('content-type'), 'application/problem+json');
    assert.deepEqual(applied, []);
  });

  test('a retry gets the stored reply, status, headers and body, and is not applied again', async () => {
    const first = await post('"k1"', 'milk');
    const again = await post('"k1"', 'milk');
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('location'), first.headers.get('location'));
    assert.equal(again.headers.get('idempotent-replayed'), '?1');
    assert.equal(first.headers.get('idempotent-replayed'), null);
    assert.deepEqual(await again.json(), await first.json());
    assert.deepEqual(applied, ['milk']);
  });

  test('the same key with another payload gets 422 problem+json', async () => {
    await post('"k2"', 'eggs');
    const reused = await post('"k2"', 'bread');
    assert.equal(reused.status, 422);
    assert.equal(reused.headers.get('content-type'), 'application/problem+json');
    const body = (await reused.json()) as { title: string; status: number };
    assert.equal(body.status, 422);
    assert.match(body.title, /already used/);
    assert.deepEqual(applied, ['eggs']);
  });

  test('a retry while the first is in flight gets 409; once answered, the stored reply', async () => {
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (onEnter = resolve));
    const first = post('"k3"', 'tea');
    await entered;
    let retry = await post('"k3"', 'tea');
    assert.equal(retry.status, 409);
    // Typed, so that a client tells "still in flight" from the app's own conflicts.
    assert.deepEqual(await retry.json(), {
      type: IN_FLIGHT_PROBLEM_TYPE, status: 409, title: 'A request with this Idempotency-Key is being processed', detail: 'Retry once the first request has been answered; its reply will then be sent again.',
    });
    release();
    assert.equal((await first).status, 201);
    retry = await post('"k3"', 'tea');
    assert.equal(retry.status, 201);
    assert.deepEqual(applied, ['tea']);
  });

  test('concurrent requests with one key: exactly one is applied, the others get 409 or its reply', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('"k4"', 'jam')));
    const statuses = answers.map((answer) => answer.status);
    assert.deepEqual(applied, ['jam']);
    assert.ok(statuses.every((status) => status === 201 || status === 409), statuses.join());
    assert.equal(answers.filter((answer) => answer.status === 201 && !answer.headers.get('idempotent-replayed')).length, 1);
  });

  test('a 5xx is not stored: the retry is processed afresh', async () => {
    assert.equal((await post('"k5"', 'explode')).status, 503);
    assert.equal((await post('"k5"', 'explode')).headers.get('idempotent-replayed'), null);
    assert.deepEqual(applied, []);
  });

  test('a write without a key gets 400 naming the header; a malformed key gets 400 saying why', async () => {
    const missing = await post(undefined, 'salt');
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as { detail: string }).detail, /POST \/things .*Idempotency-Key/);
    const malformed = await post('"open', 'salt');
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { detail: string }).detail, /not closed/);
    assert.deepEqual(applied, []);
  });

  test('a body over maxBodyBytes (1 MiB) gets 413 and is not processed', async () => {
    const reply = await post('"big"', 'x'.repeat(1024 * 1024 + 1));
    assert.equal(reply.status, 413);
    assert.match(((await reply.json()) as { detail: string }).detail, /larger than 1048576 bytes.*raise maxBodyBytes/);
    assert.deepEqual(applied, []);
  });

  test('reads pass through without a key', async () => {
    await post('"k6"', 'rice');
    const read = await fetch(`${base}/things`);
    assert.deepEqual(await read.json(), ['rice']);
  });
});

describe('Idempotency', () => {
  const request = (key: string, body = 'b'): KeyedRequest => ({ method: 'POST', path: '/x', key, body });
  const created = (n: number): Reply => ({ status: 201, headers: {}, body: String(n) });

  test('a key expires ttlMs after its first request; then it is a new request', async () => {
    let now = 1_000;
    const store = new MemoryIdempotencyStore();
    const idempotency = new Idempotency({ ttlMs: 100, now: () => now, store });
    let runs = 0;
    const run = () => idempotency.run(request('"e"'), () => created(++runs));
    assert.equal((await run()).body, '1');
    now = 1_099;
    assert.equal((await run()).body, '1');
    now = 1_100;
    assert.equal((await run()).body, '2');
    assert.equal(runs, 2);
    assert.equal(store.size, 1);
  });

  test('expired keys are swept, so memory stays bounded', async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore();
    const idempotency = new Idempotency({ ttlMs: 10, now: () => now, store });
    for (let i = 0; i < 100; i++) {
      now = i;
      await idempotency.run(request(`"s${i}"`), () => created(i));
    }
    assert.equal(store.size, 10);
  });

  test('a 401 or 403 is not kept: the retry with fresh credentials is processed', async () => {
    for (const status of [401, 403]) {
      const idempotency = new Idempotency();
      const refused = await idempotency.run(request(`"auth-${status}"`), () => ({ status, headers: {}, body: 'sign in' }));
      assert.equal(refused.status, status);
      const retried = await idempotency.run(request(`"auth-${status}"`), () => created(1));
      assert.equal(retried.status, 201);
      assert.equal(retried.headers['idempotent-replayed'], undefined);
    }
  });

  test('a throw releases the key', async () => {
    const idempotency = new Idempotency();
    await assert.rejects(idempotency.run(request('"t"'), () => Promise.reject(new Error('db down'))), /db down/);
    assert.equal((await idempotency.run(request('"t"'), () => created(1))).status, 201);
  });

  test('scopes keep one client from reading another client\'s reply', async () => {
    const idempotency = new Idempotency();
    await idempotency.run({ ...request('"same"'), scope: 'alice' }, () => created(1));
    const bob = await idempotency.run({ ...request('"same"'), scope: 'bob' }, () => created(2));
    assert.equal(bob.body, '2');
  });

  test('by default (required: false) a write without a key is processed, and onKeyless hears of it', async () => {
    const keyless: string[] = [];
    const idempotency = new Idempotency({ onKeyless: ({ method, path }) => keyless.push(`${method} ${path}`) });
    const reply = await idempotency.run({ method: 'POST', path: '/x', key: undefined, body: '' }, () => created(7));
    assert.equal(reply.body, '7');
    const again = await idempotency.run({ method: 'POST', path: '/x', key: undefined, body: '' }, () => created(8));
    assert.equal(again.body, '8', 'nothing is kept for a keyless write: a repeat is processed again');
    assert.deepEqual(keyless, ['POST /x', 'POST /x']);
  });

  test('a bad ttlMs or leaseMs is refused, naming it', () => {
    assert.throws(() => new Idempotency({ ttlMs: 0 }), /ttlMs must be a positive number/);
    assert.throws(() => new Idempotency({ ttlMs: 1_000, leaseMs: 2_000 }), /leaseMs must be a positive number of milliseconds no larger than ttlMs \(1000\), got 2000/);
  });

  test('a key whose processing never ended is free again after leaseMs, not after ttlMs', async () => {
    let now = 0;
    const idempotency = new Idempotency({ leaseMs: 1_000, now: () => now });
    const { claim } = await idempotency.begin(request('"crashed"'));
    assert.ok(claim, 'the first request claims the key');
    now = 999;
    assert.equal((await idempotency.begin(request('"crashed"'))).reply?.status, 409);
    now = 1_000;
    const retry = await idempotency.begin(request('"crashed"'));
    assert.ok(retry.claim, 'the retry claims the key once the lease is over');
    await claim.settle(created(1));
    await retry.claim.settle(created(2));
    assert.equal((await idempotency.run(request('"crashed"'), () => created(3))).body, '2', 'the first request, late, did not overwrite the retry’s reply');
  });

  test('bodies are fingerprinted as bytes: two binary bodies that decode alike as UTF-8 differ', async () => {
    const idempotency = new Idempotency();
    const bytes = (byte: number) => new Uint8Array([0x61, byte]);
    assert.equal(Buffer.from(bytes(0xfe)).toString(), Buffer.from(bytes(0xff)).toString(), 'both decode to "a\uFFFD"');
    await idempotency.run({ ...request('"bin"'), body: bytes(0xfe) }, () => created(1));
    assert.equal((await idempotency.run({ ...request('"bin"'), body: bytes(0xff) }, () => created(2))).status, 422);
  });
});

test('parseIdempotencyKey: sf-strings, bare values, and clear refusals', () => {
  assert.equal(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"'), '8e03978e-40d5-43e8-bc93-6894a57f9324');
  assert.equal(parseIdempotencyKey(' "a\\"b\\\\c" '), 'a"b\\c');
  assert.equal(parseIdempotencyKey('bare-key'), 'bare-key');
  assert.throws(() => parseIdempotencyKey('"abc'), /not closed/);
  assert.throws(() => parseIdempotencyKey('"a"b"'), /after the closing quote/);
  assert.throws(() => parseIdempotencyKey('"a\\nb"'), /backslash/);
  assert.throws(() => parseIdempotencyKey('""'), /empty/);
  assert.throws(() => parseIdempotencyKey(`"${'x'.repeat(256)}"`), /longer than 255/);
  assert.throws(() => parseIdempotencyKey('"caf\u00e9"'), /printable ASCII/);
});

test('checkOutboxUser: a write made by another user than the session\'s is refused with its own problem type; a match, or no user named, passes', () => {
  assert.equal(checkOutboxUser(undefined, 'ann'), undefined);
  assert.equal(checkOutboxUser('ann', 'ann'), undefined);
  for (const session of ['bo', undefined]) {
    const reply = checkOutboxUser('ann', session)!;
    assert.equal(reply.status, 403);
    const body = JSON.parse(String(reply.body)) as { type: string; detail: string };
    assert.equal(body.type, USER_MISMATCH_PROBLEM_TYPE);
    assert.match(body.detail, /made by "ann"/);
  }
});
