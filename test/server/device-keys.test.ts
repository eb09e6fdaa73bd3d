import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { DeviceKeys, keyEndpoint } from '../../server/index.js';
import { DeviceKey, type KeptKey } from '../../sw/device-key.js';

/** The key endpoint mounted as the README says, on a real server; the `X-User` header stands for the app's session. */
const frameworks: Record<string, (keys: DeviceKeys) => Promise<Server>> = {
  async 'Express 5'(keys) {
    const app = express();
    app.all('/outbox-key', express.json(), keyEndpoint(keys, (req) => req.headers['x-user'] as string | undefined));
    return app.listen(0, '127.0.0.1');
  },
  async 'Fastify 5'(keys) {
    const app = Fastify();
    app.all('/outbox-key', async (req, reply) => {
      const answer = await keys.answer({ method: req.method, query: new URLSearchParams(req.query as Record<string, string>), body: req.body ?? null, user: req.headers['x-user'] as string | undefined, outboxUser: req.headers['outbox-user'] as string | undefined });
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app.server;
  },
  async 'Hono 4'(keys) {
    const app = new Hono();
    app.all('/outbox-key', async (c) => {
      const text = await c.req.text();
      const answer = await keys.answer({ method: c.req.method, query: new URL(c.req.url).searchParams, body: text ? JSON.parse(text) : null, user: c.req.header('x-user'), outboxUser: c.req.header('outbox-user') });
      return new Response(answer.status === 204 ? null : String(answer.body), { status: answer.status, headers: answer.headers });
    });
    return serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  },
};

for (const [name, start] of Object.entries(frameworks)) {
  test(`${name}: a worker's DeviceKey gets the public key, seals, gets the private key over HTTP and opens; another user cannot; a revoked key opens nothing`, async () => {
    const keys = new DeviceKeys();
    const server = await start(keys);
    if (!server.listening) await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/outbox-key`;
    try {
      const kept = new Map<string, KeptKey>();
      const device = (user: string) =>
        new DeviceKey({
          url,
          fetch: (request) => fetch(request),
          clientId: async () => 'device-1',
          credentials: async () => [['x-user', user]],
          keptKey: async (owner) => kept.get(owner),
          keepKey: async (key) => void kept.set(key.user, key),
          dropKey: async (owner) => void kept.delete(owner),
        });
      const body = new TextEncoder().encode('a note').buffer as ArrayBuffer;
      const request = { headers: [['content-type', 'text/plain']] as [string, string][], body, credentials: 'same-origin' as const, mode: 'same-origin' as const, redirect: 'follow' as const, referrer: '' };
      const sealed = await device('ana').sealRequest(request, 'ana');
      assert.deepEqual(await device('ana').openRequest(sealed), request);
      await assert.rejects(device('ben').openRequest(sealed), { name: 'KeyUnavailable', why: 'revoked' });

      const answer = await fetch(`${url}?kid=${sealed.sealed.kid}`, { headers: { 'x-user': 'ana' } });
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      assert.equal((await fetch(`${url}?kid=${sealed.sealed.kid}`, { method: 'DELETE', headers: { 'x-user': 'ana' } })).status, 204);
      await assert.rejects(device('ana').openRequest(sealed), { name: 'KeyUnavailable', why: 'revoked' });
      const refused = await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'x-user': 'ana' } });
      assert.equal(refused.status, 400);
      assert.match((await refused.json()).detail, /"device"/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
}
