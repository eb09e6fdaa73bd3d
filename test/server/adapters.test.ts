import { serve, type ServerType } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { IN_FLIGHT_PROBLEM_TYPE } from '../../server/index.js';
import { idempotency as expressIdempotency } from '../../server/express.js';
import { idempotency as fastifyIdempotency } from '../../server/fastify.js';
import { idempotency as honoIdempotency } from '../../server/hono.js';

/**
 * One API, written the way each framework is written, behind each adapter, on a real
 * running server: POST /things { name } is applied once per key and answers 201 with a
 * Location; { name: 'boom' } throws once, for the app's own error handler to answer.
 * Bodies are limited to 1 KiB.
 */
interface Api {
  applied: string[];
  /** Resolved when set: the handler waits for it, to hold a write in flight. */
  hold: Promise<void> | undefined;
  entered: () => void;
  boomed: boolean;
}

/** What the route does with a write, the same in every framework. */
async function apply(api: Api, name: string): Promise<{ n: number }> {
  api.entered();
  await api.hold;
  if (name === 'boom' && !api.boomed) {
    api.boomed = true;
    throw new Error('the database is down');
  }
  api.applied.push(name);
  return { n: api.applied.length };
}

type Start = (api: Api, options: { required: boolean; onKeyless: (write: { method: string; path: string }) => void }) => Promise<{ url: string; close(): Promise<void> }>;

const frameworks: Record<string, Start> = {
  async 'Express 5'(api, options) {
    const app = express();
    app.use(express.json({ limit: '1kb' }), expressIdempotency(options));
    app.post('/things', async (req, res) => {
      const { n } = await apply(api, (req.body as { name: string }).name);
      res.status(201).location(`/things/${n}`).set('x-thing', String(n)).json({ n });
    });
    app.use((error: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(error.status ?? 500).json({ handledBy: 'the app', message: error.message });
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => closeServer(server) };
  },

  async 'Fastify 5'(api, options) {
    const app = Fastify({ bodyLimit: 1024 });
    await app.register(fastifyIdempotency, options);
    app.post('/things', async (request, reply) => {
      const { n } = await apply(api, (request.body as { name: string }).name);
      return reply.code(201).header('location', `/things/${n}`).header('x-thing', String(n)).send({ n });
    });
    app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
      void reply.code(error.statusCode ?? 500).send({ handledBy: 'the app', message: error.message });
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },

  async 'Hono 4'(api, options) {
    const app = new Hono();
    app.use('*', honoIdempotency({ maxBodyBytes: 1024, ...options }));
    app.post('/things', async (c) => {
      const { n } = await apply(api, (await c.req.json<{ name: string }>()).name);
      return c.json({ n }, 201, { location: `/things/${n}`, 'x-thing': String(n) });
    });
    app.onError((error, c) => c.json({ handledBy: 'the app', message: error.message }, 500));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => closeServer(server) };
  },
};

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

for (const [name, start] of Object.entries(frameworks)) {
  describe(`${name}: the adapter on a real server`, { timeout: 10_000 }, () => {
    const api: Api = { applied: [], hold: undefined, entered: () => {}, boomed: false };
    let server: Awaited<ReturnType<Start>>;
    // The defaults' keyless writes are tried on a server of their own, beside this strict one.
    let lenient: Awaited<ReturnType<Start>>;
    const keyless: string[] = [];
    before(async () => {
      server = await start(api, { required: true, onKeyless: () => assert.fail('required: true never processes a keyless write') });
      lenient = await start(api, { required: false, onKeyless: ({ method, path }) => keyless.push(`${method} ${path}`) });
    });
    after(() => Promise.all([server.close(), lenient.close()]));
    beforeEach(() => Object.assign(api, { applied: [], hold: undefined, entered: () => {}, boomed: false }));

    const post = (key: string | undefined, body: unknown) =>
      fetch(`${server.url}/things`, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
      });
    const problemOf = async (response: Response) => {
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
      return (await response.json()) as { type: string; title: string; detail: string };
    };

    test('a retry gets the stored reply, status, headers and body, and is not applied again', async () => {
      const first = await post('"k1"', { name: 'milk' });
      const again = await post('"k1"', { name: 'milk' });
      assert.equal(first.status, 201);
      assert.equal(again.status, 201);
      for (const header of ['location', 'x-thing', 'content-type']) assert.equal(again.headers.get(header), first.headers.get(header), header);
      assert.match(again.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(again.headers.get('idempotent-replayed'), '?1');
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.deepEqual(await again.json(), await first.json());
      assert.deepEqual(api.applied, ['milk']);
    });

    test('the same key with another payload gets 422', async () => {
      await post('"k2"', { name: 'milk' });
      const other = await post('"k2"', { name: 'eggs' });
      assert.equal(other.status, 422);
      assert.equal((await problemOf(other)).title, 'Idempotency-Key is already used');
      assert.deepEqual(api.applied, ['milk']);
    });

    test('a retry while the first is in flight gets 409 with the in-flight type; once answered, the stored reply', async () => {
      let release = () => {};
      api.hold = new Promise((resolve) => (release = resolve));
      const entered = new Promise<void>((resolve) => (api.entered = resolve));
      const first = post('"k3"', { name: 'tea' });
      await entered;
      try {
        const during = await post('"k3"', { name: 'tea' });
        assert.equal(during.status, 409);
        assert.equal(during.headers.get('retry-after'), '1');
        assert.equal((await problemOf(during)).type, IN_FLIGHT_PROBLEM_TYPE);
      } finally {
        release();
      }
      assert.equal((await first).status, 201);
      assert.equal((await post('"k3"', { name: 'tea' })).headers.get('idempotent-replayed'), '?1');
      assert.deepEqual(api.applied, ['tea']);
    });

    test('by default a write without a key is processed as without the middleware, and onKeyless counts it', async () => {
      const send = () => fetch(`${lenient.url}/things`, { method: 'POST', body: JSON.stringify({ name: 'keyless' }), headers: { 'content-type': 'application/json' } });
      assert.equal((await send()).status, 201);
      assert.equal((await send()).status, 201);
      assert.deepEqual(api.applied, ['keyless', 'keyless'], 'unprotected: each is applied');
      assert.deepEqual(keyless, ['POST /things', 'POST /things']);
    });

    test('with required: true, a missing key or a malformed one gets 400 saying which', async () => {
      const missing = await post(undefined, { name: 'x' });
      assert.equal(missing.status, 400);
      assert.equal((await problemOf(missing)).title, 'Idempotency-Key is missing');
      const malformed = await post('"open', { name: 'x' });
      assert.equal(malformed.status, 400);
      assert.match((await problemOf(malformed)).detail, /not closed/);
      assert.deepEqual(api.applied, []);
    });

    test('a body over the limit gets 413 and claims nothing: the key then takes a body within it', async () => {
      const big = await post('"k4"', { name: 'x'.repeat(2048) });
      assert.equal(big.status, 413);
      assert.equal((await post('"k4"', { name: 'small' })).status, 201);
      assert.deepEqual(api.applied, ['small']);
    });

    test('a throw reaches the app’s own error handler, and frees the key for the retry', async () => {
      const failed = await post('"k5"', { name: 'boom' });
      assert.equal(failed.status, 500);
      assert.deepEqual(await failed.json(), { handledBy: 'the app', message: 'the database is down' });
      const retried = await post('"k5"', { name: 'boom' });
      assert.equal(retried.status, 201);
      assert.equal(retried.headers.get('idempotent-replayed'), null);
      assert.deepEqual(api.applied, ['boom']);
    });

    test('reads pass through without a key', async () => {
      assert.equal((await fetch(`${server.url}/nothing-here`)).status, 404);
    });
  });
}

test('Express 5: a body that no parser read is refused through the app’s error handler, naming the fix', async () => {
  const app = express();
  app.use(express.json(), expressIdempotency());
  app.post('/notes', (_req, res) => void res.status(201).end());
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ message: error.message }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const reply = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/notes`, { method: 'POST', body: 'plain words', headers: { 'content-type': 'text/plain', 'idempotency-key': '"n1"' } });
    assert.equal(reply.status, 500);
    assert.match(((await reply.json()) as { message: string }).message, /POST \/notes has a body \(text\/plain\) that no body parser read.*express\.text\(\)/);
  } finally {
    await closeServer(server);
  }
});
