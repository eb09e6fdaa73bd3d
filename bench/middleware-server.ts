/**
 * One API on one framework, three ways, for bench/middleware.bench.ts: POST
 * /plain/things without the middleware, /memory/things with it on the memory store,
 * /redis/things with it on Redis. The handler and body parsing are the same in all three.
 *
 *   node --import tsx bench/middleware-server.ts express|fastify|hono <redis url>
 * Prints the port once listening.
 */
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { MemoryIdempotencyStore, RedisIdempotencyStore, type IdempotencyStore } from '../server/index.js';
import { idempotency as forExpress } from '../server/express.js';
import { idempotency as forFastify } from '../server/fastify.js';
import { idempotency as forHono } from '../server/hono.js';

const [framework, redisUrl] = process.argv.slice(2);
const client = await createClient({ url: redisUrl }).connect();
const stores: Record<'memory' | 'redis', IdempotencyStore> = { memory: new MemoryIdempotencyStore(), redis: new RedisIdempotencyStore({ client }) };
let made = 0;
const thing = (name: unknown) => ({ id: ++made, name });

let port: number;
if (framework === 'express') {
  const app = express();
  app.use(express.json());
  for (const arm of ['memory', 'redis'] as const) app.use(`/${arm}`, forExpress({ store: stores[arm] }));
  app.post('/:arm/things', (req, res) => void res.status(201).json(thing((req.body as { name: unknown }).name)));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
} else if (framework === 'fastify') {
  const app = Fastify();
  const route = async (scope: FastifyInstance) => {
    scope.post('/things', async (request, reply) => reply.code(201).send(thing((request.body as { name: unknown }).name)));
  };
  await app.register(route, { prefix: '/plain' });
  for (const arm of ['memory', 'redis'] as const) {
    await app.register(async (scope) => {
      await scope.register(forFastify, { store: stores[arm] });
      await route(scope);
    }, { prefix: `/${arm}` });
  }
  port = Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);
} else if (framework === 'hono') {
  const app = new Hono();
  for (const arm of ['memory', 'redis'] as const) app.use(`/${arm}/*`, forHono({ store: stores[arm] }));
  app.post('/:arm/things', async (c) => c.json(thing((await c.req.json<{ name: unknown }>()).name), 201));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
} else {
  throw new Error(`Unknown framework "${framework}": give express, fastify or hono.`);
}
console.log(port);
