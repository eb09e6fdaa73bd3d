import type { Page } from '@playwright/test';
import type { QueuedBody } from '../../sw/protocol.js';
import { expect, openApp, stopWorkerMidReplay, test, write } from '../support/fixtures.js';
import type { TestServer } from '../support/test-server.js';
import { buildWorker } from '../support/workers.js';
import { goOnline } from '../support/online.js';

// A Workbox app (workbox-routing, NetworkOnly) whose write route has OutboxPlugin where
// BackgroundSyncPlugin was: test/workers/workbox-outbox-sw.ts, served as /outbox-sw.js.
const bodies = (server: TestServer) => server.commits.map((commit) => JSON.parse(commit.body).i as number);
const counts = (page: Page) => page.evaluate(() => window.outbox.snapshot().then((s) => s.counts));

test.beforeEach(async ({ server }) => {
  server.workerScript = await buildWorker('workbox-outbox-sw');
});

test('OutboxPlugin in a Workbox route: writes made offline are answered 202 and reach the server once, in order, with their keys', async ({ context, server }) => {
  const page = await openApp(context, server);
  await context.setOffline(true);
  const answers = [];
  for (let i = 1; i <= 5; i++) answers.push(await write(page, 'POST', '/api/items', { i }));
  expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202]);
  await goOnline(context);
  await server.waitForCommits(5);
  expect(bodies(server)).toEqual([1, 2, 3, 4, 5]);
  expect(server.commits.map((commit) => commit.key)).toEqual(answers.map((answer) => (JSON.parse(answer.text) as QueuedBody).outbox.idempotencyKey));
  expect(server.arrivals).toHaveLength(5);
  // The queue's name is the lane, on the wire too.
  expect(server.arrivals.every((arrival) => arrival.headers['outbox-lane'] === 'api-writes')).toBe(true);
});

test('OutboxPlugin: an online write gets the server’s own answer, through the strategy', async ({ context, server }) => {
  const page = await openApp(context, server);
  const answer = await write(page, 'POST', '/api/items', { i: 1 });
  expect(answer.status).toBe(201);
  expect(server.commits).toHaveLength(1);
  expect(server.arrivals[0]!.key).toMatch(/^"[0-9a-f-]{36}"$/);
});

test('OutboxPlugin: a write whose answer is lost after the server applied it is applied once', async ({ context, server }) => {
  const page = await openApp(context, server);
  server.fail({ kind: 'lose-response' });
  const answer = await write(page, 'POST', '/api/items', { i: 1 });
  expect(answer.status).toBe(202);
  const { idempotencyKey } = (JSON.parse(answer.text) as QueuedBody).outbox;
  await page.evaluate(() => window.outbox.replay());
  await server.waitFor(() => server.arrivalsFor(idempotencyKey).length === 2, 'the replay');
  await expect.poll(() => counts(page)).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
  expect(server.commitsFor(idempotencyKey)).toHaveLength(1);
});

test('OutboxPlugin: a 503 is retried after its Retry-After, and the write is applied once', async ({ context, server }) => {
  const page = await openApp(context, server);
  server.fail({ kind: 'status', status: 503, retryAfter: '1' });
  const answer = await write(page, 'POST', '/api/items', { i: 1 });
  expect(answer.status).toBe(202);
  await server.waitForCommits(1);
  expect(server.arrivals.map((arrival) => arrival.key)).toEqual([server.commits[0]!.key, server.commits[0]!.key]);
  await expect.poll(() => counts(page)).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});

test('OutboxPlugin: the worker killed in the middle of a replay: every write is applied once, in order', async ({ context, server }) => {
  const page = await openApp(context, server, { timeoutMs: 2_000 });
  await stopWorkerMidReplay(context, page, server);
  server.release();
  await page.evaluate(() => window.outbox.replay());
  await server.waitForCommits(5, 30_000);
  expect(bodies(server)).toEqual([1, 2, 3, 4, 5]);
  for (const commit of server.commits) expect(server.commitsFor(commit.key)).toHaveLength(1);
});
