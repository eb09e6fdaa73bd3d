import { serve } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono, type Context } from 'hono';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { idempotent, IN_FLIGHT_PROBLEM_TYPE, json, MemoryIdempotencyStore, RedisIdempotencyStore, USER_MISMATCH_PROBLEM_TYPE, type IdempotencyOptions, type IdempotencyStore, type ReadRequest } from '../../server/index.js';
import { idempotency as expressIdempotency } from '../../server/express.js';
import { idempotency as fastifyIdempotency } from '../../server/fastify.js';
import { idempotency as honoIdempotency } from '../../server/hono.js';
import { redisForTests } from '../support/redis-server.js';

/**
 * The behaviours of draft-ietf-httpapi-idempotency-key-header-07 (sections 2.1 to 2.7), on
 * every framework the module supports and each of its stores, each on a real running
 * server, with the middleware configured as its README says (`required: true` where the
 * draft's "documented idempotent operation requiring this header" applies, ttlMs short so
 * that expiry can be seen). The scenarios were checked against an independent list (the
 * Gherkin scenarios of idempot-dev's specification); where the module chooses otherwise,
 * the case says so, and the README's "Where the draft leaves a choice" says why.
 */

/** The app: POST /orders { item } creates an order; { item: 'busy' } answers 503 once. */
interface Orders {
  made: string[];
  busy: boolean;
  /** While set, a write waits for it: a request held in flight. */
  hold: Promise<void> | undefined;
  entered: () => void;
}

async function order(orders: Orders, item: string): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
  orders.entered();
  await orders.hold;
  if (item === 'busy' && !orders.busy) {
    orders.busy = true;
    return { status: 503, body: { title: 'Try again' }, headers: { 'retry-after': '1' } };
  }
  orders.made.push(item);
  const n = orders.made.length;
  return { status: 201, body: { n, item }, headers: { location: `/orders/${n}`, 'x-order': String(n) } };
}

/** `signedIn`: the server says who is signed in (the adapter's `user` option), from the `X-User` header standing for its session. */
type Start = (orders: Orders, options: IdempotencyOptions, signedIn?: boolean) => Promise<{ url: string; close(): Promise<void> }>;

const listening = async (server: Server) => {
  if (!server.listening) await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
};

const frameworks: Record<string, Start> = {
  async 'Express 5'(orders, options, signedIn) {
    const app = express();
    app.use(express.json(), expressIdempotency({ ...options, ...(signedIn ? { user: (req) => req.headers['x-user'] as string | undefined } : {}) }));
    app.post('/orders', async (req, res) => {
      const { status, body, headers } = await order(orders, (req.body as { item: string }).item);
      res.status(status).set(headers).json(body);
    });
    return listening(app.listen(0, '127.0.0.1'));
  },
  async 'Fastify 5'(orders, options, signedIn) {
    const app = Fastify();
    await app.register(fastifyIdempotency, { ...options, ...(signedIn ? { user: (request: FastifyRequest) => request.headers['x-user'] as string | undefined } : {}) });
    app.post('/orders', async (request, reply) => {
      const { status, body, headers } = await order(orders, (request.body as { item: string }).item);
      return reply.code(status).headers(headers).send(body);
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
  async 'Hono 4'(orders, options, signedIn) {
    const app = new Hono();
    app.use('*', honoIdempotency({ ...options, ...(signedIn ? { user: (c: Context) => c.req.header('x-user') } : {}) }));
    app.post('/orders', async (c) => {
      const { status, body, headers } = await order(orders, (await c.req.json<{ item: string }>()).item);
      return c.json(body, status as 201, headers);
    });
    return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
  },
  async 'node:http'(orders, options, signedIn) {
    const server = createServer(
      idempotent(
        async (request) => {
          const { status, body, headers } = await order(orders, (JSON.parse(request.body) as { item: string }).item);
          return json(status, body, headers);
        },
        { ...options, ...(signedIn ? { user: (request: ReadRequest) => request.headers['x-user'] as string | undefined } : {}) },
      ),
    ).listen(0, '127.0.0.1');
    return listening(server);
  },
};

const redis = redisForTests();
let servers = 0;
const stores: Record<string, () => IdempotencyStore> = {
  memory: () => new MemoryIdempotencyStore(),
  // Each server's keys under a prefix of its own, on the one redis-server.
  Redis: () => new RedisIdempotencyStore({ client: redis.client(), prefix: `conformance:${++servers}:` }),
};

const TTL_MS = 600;

for (const [framework, start] of Object.entries(frameworks)) {
  for (const [storeName, makeStore] of Object.entries(stores)) {
    describe(`${framework} × ${storeName} store`, { timeout: 20_000 }, () => {
      const orders: Orders = { made: [], busy: false, hold: undefined, entered: () => {} };
      let app: Awaited<ReturnType<Start>>;
      let keyNumber = 0;
      before(async () => {
        app = await start(orders, { store: makeStore(), required: true, ttlMs: TTL_MS, leaseMs: TTL_MS });
      });
      after(() => app.close());
      beforeEach(() => Object.assign(orders, { made: [], busy: false, hold: undefined, entered: () => {} }));
      const newKey = () => `"${framework}-${storeName}-${++keyNumber}-${Date.now()}"`;

      const post = (key: string | string[] | undefined, body: unknown) => {
        const headers = new Headers({ 'content-type': 'application/json' });
        for (const value of key === undefined ? [] : [key].flat()) headers.append('idempotency-key', value);
        return fetch(`${app.url}/orders`, { method: 'POST', body: JSON.stringify(body), headers });
      };
      /** An error as the draft shows them: problem+json with a type, a title and a detail. */
      const problem = async (response: Response, status: number) => {
        assert.equal(response.status, status);
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
        const body = (await response.json()) as { type?: string; title?: string; detail?: string; status?: number };
        for (const field of ['type', 'title', 'detail'] as const) assert.equal(typeof body[field], 'string', `${field} in ${JSON.stringify(body)}`);
        return body;
      };

      test('2.7: a write without the key, where it is required, gets 400 problem+json and is not applied', async () => {
        const body = await problem(await post(undefined, { item: 'tea' }), 400);
        assert.match(body.title!, /missing/);
        assert.deepEqual(orders.made, []);
      });

      test('2.1: a key that is not an sf-string (an unclosed quote, a bad escape, text after the string, empty) gets 400, naming why', async () => {
        for (const [key, why] of [['"open', /not closed/], ['"a\\b"', /backslash/], ['"a"b', /after the closing quote/], ['""', /empty/]] as const) {
          assert.match((await problem(await post(key, { item: 'tea' }), 400)).detail!, why, key);
        }
        assert.deepEqual(orders.made, []);
      });

      test('2.1: several keys in one request (two header lines, or a list) get 400', async () => {
        await problem(await post([newKey(), newKey()], { item: 'tea' }), 400);
        await problem(await post(`${newKey()}, ${newKey()}`, { item: 'tea' }), 400);
        await problem(await post('one-key, another-key', { item: 'tea' }), 400);
        assert.deepEqual(orders.made, []);
      });

      test('2.6: a first request is processed; a retry after it completed gets its answer again (status, body, Location, Content-Type, its own headers), marked, and is not applied again', async () => {
        const key = newKey();
        const first = await post(key, { item: 'tea' });
        const retries = await Promise.all([post(key, { item: 'tea' }), post(key, { item: 'tea' })]);
        assert.equal(first.status, 201);
        const firstBody = await first.json();
        for (const retry of retries) {
          assert.equal(retry.status, 201);
          for (const header of ['location', 'x-order']) assert.equal(retry.headers.get(header), first.headers.get(header), header);
          assert.match(retry.headers.get('content-type') ?? '', /^application\/json/);
          assert.equal(retry.headers.get('idempotent-replayed'), '?1');
          assert.deepEqual(await retry.json(), firstBody);
        }
        assert.equal(first.headers.get('idempotent-replayed'), null);
        assert.deepEqual(orders.made, ['tea']);
      });

      test('2.2 and 2.7: the key again with another payload gets 422 problem+json, and is not applied', async () => {
        const key = newKey();
        await post(key, { item: 'tea' });
        assert.match((await problem(await post(key, { item: 'coffee' }), 422)).title!, /already used/);
        assert.deepEqual(orders.made, ['tea']);
      });

      test('2.6 and 2.7: a retry while the first is processed gets 409 problem+json (a type of its own, Retry-After); then the first answer', async () => {
        const key = newKey();
        let release = () => {};
        orders.hold = new Promise((resolve) => (release = resolve));
        const entered = new Promise<void>((resolve) => (orders.entered = resolve));
        const first = post(key, { item: 'tea' });
        await entered;
        try {
          const during = await post(key, { item: 'tea' });
          assert.equal((await problem(during, 409)).type, IN_FLIGHT_PROBLEM_TYPE);
          assert.equal(during.headers.get('retry-after'), '1');
        } finally {
          release();
        }
        assert.equal((await first).status, 201);
        assert.equal((await post(key, { item: 'tea' })).headers.get('idempotent-replayed'), '?1');
        assert.deepEqual(orders.made, ['tea']);
      });

      test('2.3: a key expires ttlMs after its first request, as documented: a retry after that is processed afresh', async () => {
        const key = newKey();
        const started = Date.now();
        assert.equal((await post(key, { item: 'tea' })).status, 201);
        assert.equal((await post(key, { item: 'tea' })).headers.get('idempotent-replayed'), '?1');
        // Retried until one is processed afresh: never before the key's lifetime is over.
        let retry = await post(key, { item: 'tea' });
        while (retry.headers.get('idempotent-replayed') !== null) {
          await delay(50);
          retry = await post(key, { item: 'tea' });
        }
        assert.ok(Date.now() - started >= TTL_MS - 5, `not before ${TTL_MS} ms (${Date.now() - started})`);
        assert.deepEqual(orders.made, ['tea', 'tea']);
      });

      test('a choice the draft leaves (2.7, "other errors"): a 5xx is not kept, so the retry is processed afresh', async () => {
        const key = newKey();
        assert.equal((await post(key, { item: 'busy' })).status, 503);
        const retry = await post(key, { item: 'busy' });
        assert.equal(retry.status, 201);
        assert.equal(retry.headers.get('idempotent-replayed'), null);
        assert.deepEqual(orders.made, ['busy']);
      });

      test('a choice the draft leaves (2.4, fingerprints): another key with the same payload is another write, applied', async () => {
        await post(newKey(), { item: 'tea' });
        assert.equal((await post(newKey(), { item: 'tea' })).status, 201);
        assert.deepEqual(orders.made, ['tea', 'tea']);
      });
    });
  }
}

// Not the draft's: sw-outbox's per-user outboxes, with the server saying who is signed in.
for (const [framework, start] of Object.entries(frameworks)) {
  describe(`${framework}, told who is signed in (user)`, { timeout: 20_000 }, () => {
    const orders: Orders = { made: [], busy: false, hold: undefined, entered: () => {} };
    let app: Awaited<ReturnType<Start>>;
    before(async () => {
      app = await start(orders, { required: true }, true);
    });
    after(() => app.close());
    beforeEach(() => Object.assign(orders, { made: [], busy: false, hold: undefined, entered: () => {} }));
    const post = (key: string, item: string, session: string | undefined, outboxUser?: string) =>
      fetch(`${app.url}/orders`, {
        method: 'POST',
        body: JSON.stringify({ item }),
        headers: { 'content-type': 'application/json', 'idempotency-key': key, ...(session ? { 'x-user': session } : {}), ...(outboxUser ? { 'outbox-user': outboxUser } : {}) },
      });

    test('a write the outbox made for another user is refused with 403 of its own type, before its key is claimed; its owner then gets it applied', async () => {
      const refused = await post('"u1"', 'tea', 'bo', 'ann');
      assert.equal(refused.status, 403);
      assert.equal(((await refused.json()) as { type: string }).type, USER_MISMATCH_PROBLEM_TYPE);
      assert.equal((await post('"u1"', 'tea', undefined, 'ann')).status, 403, 'nobody signed in is not ann');
      assert.deepEqual(orders.made, []);
      assert.equal((await post('"u1"', 'tea', 'ann', 'ann')).status, 201);
      assert.deepEqual(orders.made, ['tea']);
    });

    test('a write that names no user (not the outbox’s) is not checked', async () => {
      assert.equal((await post('"u2"', 'tea', 'bo')).status, 201);
    });

    test('each user has a key space of their own: one key from two users is two writes', async () => {
      assert.equal((await post('"u3"', 'tea', 'ann', 'ann')).status, 201);
      const bos = await post('"u3"', 'tea', 'bo', 'bo');
      assert.equal(bos.status, 201);
      assert.equal(bos.headers.get('idempotent-replayed'), null, 'not ann’s reply');
      assert.equal((await post('"u3"', 'tea', 'ann', 'ann')).headers.get('idempotent-replayed'), '?1');
      assert.deepEqual(orders.made, ['tea', 'tea']);
    });
  });
}
