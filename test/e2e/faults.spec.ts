import { expect, openApp, statusSince, statusTypes, stopWorkerMidReplay, test, write } from '../support/fixtures.js';
import { TestServer } from '../support/test-server.js';
import type { QueuedBody } from '../../sw/protocol.js';
import { goOnline } from '../support/online.js';

const bodies = (server: TestServer) => server.commits.map((commit) => JSON.parse(commit.body).i as number);

test('a slow server that commits after the outbox gave up on the attempt: no write is dead-lettered or re-keyed, each is applied once, in order', async ({ context, server }) => {
  test.setTimeout(90_000);
  // Each write takes 2.5 s to commit and is committed even after the client gave up at
  // 1 s; meanwhile its key gets "still in flight" 409s.
  const page = await openApp(context, server, { timeoutMs: 1_000 });
  await context.setOffline(true);
  const queued: QueuedBody['outbox'][] = [];
  for (let i = 1; i <= 4; i++) queued.push((JSON.parse((await write(page, 'POST', '/api/items', { i })).text) as QueuedBody).outbox);
  for (let i = 1; i <= 4; i++) server.fail({ kind: 'slow-commit', delayMs: 2_500 }, TestServer.bodyHas('i', i));
  await goOnline(context);
  await server.waitForCommits(4, 60_000);
  await statusSince(page, 0, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });

  expect(bodies(server)).toEqual([1, 2, 3, 4]);
  expect(server.commits.map((commit) => commit.key)).toEqual(queued.map((body) => body.idempotencyKey));
  // Every write was asked about again while it committed, and none was given up.
  for (const { idempotencyKey } of queued) expect(server.arrivalsFor(idempotencyKey).length).toBeGreaterThanOrEqual(2);
  expect(server.arrivals.every((arrival) => queued.some((body) => body.idempotencyKey === arrival.key))).toBe(true);
  expect(await statusTypes(page)).not.toContain('dead-lettered');
});

test('the worker is killed in the middle of a replay with the page left open: the page notices the silent attempt and the replay resumes by itself', async ({ context, server }) => {
  // Retries a day away: only the page helper's watchdog can start the stopped worker.
  const page = await openApp(context, server, { timeoutMs: 2_000, retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });
  await stopWorkerMidReplay(context, page, server);

  // No reload, no replay asked for by the test: within timeoutMs and a margin, the page asks.
  await server.waitForCommits(5, 30_000);
  expect(bodies(server)).toEqual([1, 2, 3, 4, 5]);
  const third = server.commits[2]!.key;
  expect(server.commitsFor(third)).toHaveLength(1);
});
