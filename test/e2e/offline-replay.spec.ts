import { expect, logged, openApp, statusSince, test, write } from '../support/fixtures.js';
import type { QueuedBody } from '../../sw/protocol.js';
import { goOnline } from '../support/online.js';

test('20 writes made offline reach the server exactly once, in order, after reconnecting', async ({ context, server }) => {
  const page = await openApp(context, server);
  await context.setOffline(true);
  const answers = [];
  for (let i = 1; i <= 20; i++) answers.push(await write(page, 'POST', '/api/items', { i }));

  for (const answer of answers) {
    expect(answer.status).toBe(202);
    expect(answer.headers['outbox-queued']).toBe('?1');
  }
  const bodies = answers.map((answer) => JSON.parse(answer.text) as QueuedBody);
  expect(bodies.every((body) => body.queued)).toBe(true);
  // Nothing a model library would take for the record's id (decision 0022).
  expect(bodies.every((body) => !('id' in body))).toBe(true);
  expect(server.arrivals).toHaveLength(0);

  await goOnline(context); // Chromium fires the sw-outbox sync event; the page gets its online event
  await server.waitForCommits(20);

  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(server.commits.map((commit) => commit.key)).toEqual(bodies.map((body) => body.outbox.idempotencyKey));
  expect(server.commits.map((commit) => commit.seq)).toEqual(bodies.map((body) => body.outbox.id));
  expect(server.arrivals).toHaveLength(20);
  await statusSince(page, 0, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});

test("a write whose answer is lost after the server applied it is applied once", async ({ context, server }) => {
  const page = await openApp(context, server);
  server.fail({ kind: 'lose-response' });
  const mark = await logged(page);

  const answer = await write(page, 'POST', '/api/items', { lost: true });
  expect(answer.status).toBe(202); // the outbox could not know it was applied
  const { idempotencyKey } = (JSON.parse(answer.text) as QueuedBody).outbox;

  await page.evaluate(() => window.outbox.replay());
  await server.waitFor(() => server.arrivalsFor(idempotencyKey).length === 2, 'the replay');
  await statusSince(page, mark, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts.pending))).toBe(0);
  expect(server.commitsFor(idempotencyKey)).toHaveLength(1);
  expect(server.arrivalsFor(idempotencyKey)).toHaveLength(2);
});

test('503 with Retry-After during replay: nothing dropped, retried after the delay, then committed', async ({ context, server }) => {
  // Backoff of at most 50 ms: only the server's Retry-After can hold the retry for 2 s.
  const page = await openApp(context, server, { retryBaseMs: 1, retryMaxMs: 50 });
  await context.setOffline(true);
  for (let i = 1; i <= 3; i++) await write(page, 'POST', '/api/items', { i });
  server.fail({ kind: 'status', status: 503, retryAfter: '2' });

  await goOnline(context);
  await server.waitForCommits(3);

  const first = server.commits[0]!.key;
  const [refused, accepted] = server.arrivalsFor(first);
  expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(2_000);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3]);
  expect(server.arrivals).toHaveLength(4);
});

test('whenQueued=reject makes the page fetch fail like a network error, and keeps the write', async ({ context, server }) => {
  const page = await openApp(context, server, { whenQueued: 'reject' });
  await context.setOffline(true);
  const failure = await page.evaluate(() => fetch('/api/items', { method: 'POST', body: '{}' }).then(() => 'resolved', (error: Error) => error.name));
  expect(failure).toBe('TypeError');
  await goOnline(context);
  await server.waitForCommits(1);
});

test('an attempt that outlasts timeoutMs gets the queued answer and is replayed with the same key', async ({ context, server }) => {
  const page = await openApp(context, server, { timeoutMs: 1_000 });
  server.fail({ kind: 'hold' });
  const mark = await logged(page);
  const answer = await write(page, 'POST', '/api/items', { slow: true });
  expect(answer.status).toBe(202);
  const { idempotencyKey } = (JSON.parse(answer.text) as QueuedBody).outbox;
  await page.evaluate(() => window.outbox.replay());
  await statusSince(page, mark, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts.pending))).toBe(0);
  expect(server.commitsFor(idempotencyKey)).toHaveLength(1);
  expect(server.arrivalsFor(idempotencyKey).length).toBeGreaterThanOrEqual(2);
});
