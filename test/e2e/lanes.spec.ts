import type { Page } from '@playwright/test';
import { expect, logged, openApp, statusSince, test, write } from '../support/fixtures.js';
import { TestServer } from '../support/test-server.js';
import type { StatusMessage } from '../../sw/protocol.js';
import type { Snapshot } from '../../sw/commands.js';

const snapshot = (page: Page): Promise<Snapshot> => page.evaluate(() => window.outbox.snapshot());
const inLane = (lane: string) => ({ 'Outbox-Lane': lane });
/** Starts a write without waiting for its answer (its page would wait up to timeoutMs). */
const startWrite = (page: Page, path: string, body: unknown, headers: Record<string, string>) =>
  page.evaluate(([p, b, h]) => void window.write('POST', p, b, h), [path, body, headers] as const);
const body = (arrival: { body: string }) => JSON.parse(arrival.body) as { n: string };

test('order holds within a lane while another lane goes on: a held write holds back only the writes of its own lane', async ({ context, server }) => {
  const page = await openApp(context, server);
  server.fail({ kind: 'hold' }, TestServer.bodyHas('n', 'a1'));
  await startWrite(page, '/api/items', { n: 'a1' }, inLane('a'));
  await server.waitFor(() => server.arrivals.some(TestServer.bodyHas('n', 'a1')), 'a1 to arrive');
  const mark = await logged(page);
  await startWrite(page, '/api/items', { n: 'a2' }, inLane('a'));
  await statusSince(page, mark, 'queued');
  expect((await snapshot(page)).lanes.find((lane) => lane.lane === 'a')?.waiting).toBe(2);

  // Lane b does not wait for lane a.
  expect((await write(page, 'POST', '/api/items', { n: 'b1' }, inLane('b'))).status).toBe(201);
  expect((await write(page, 'POST', '/api/items', { n: 'b2' }, inLane('b'))).status).toBe(201);
  expect(server.arrivals.map(body).map((b) => b.n)).toEqual(['a1', 'b1', 'b2']);
  const lanes = (await snapshot(page)).lanes;
  expect(lanes).toEqual([expect.objectContaining({ lane: 'a', head: expect.any(Number), state: 'sending', waiting: 2 })]);

  server.release();
  await server.waitForCommits(4);
  expect(server.commits.map((commit) => JSON.parse(commit.body).n)).toEqual(['a1', 'b1', 'b2', 'a2']);
  // The lane travels with the write, so a server ordering by sequence can order per lane.
  expect(server.arrivals.map((arrival) => arrival.headers['outbox-lane'])).toEqual(['a', 'b', 'b', 'a']);
});

test('lanes are sent side by side up to `concurrency`, and no further', async ({ context, server }) => {
  const page = await openApp(context, server, { concurrency: 2 });
  for (const lane of ['l1', 'l2', 'l3', 'l4']) server.fail({ kind: 'hold' }, TestServer.bodyHas('n', lane));
  for (const lane of ['l1', 'l2', 'l3', 'l4']) await startWrite(page, '/api/items', { n: lane }, inLane(lane));
  await server.waitForArrivals(2);
  // Two are in flight and held; the other two wait for a free slot, not for each other.
  await expect.poll(() => snapshot(page).then((s) => s.lanes.map((lane) => lane.state).sort())).toEqual(['pending', 'pending', 'sending', 'sending']);
  expect(server.arrivals).toHaveLength(2);
  server.release();
  await server.waitForArrivals(4);
  server.release();
  await server.waitForCommits(4);
  expect(new Set(server.commits.map((commit) => JSON.parse(commit.body).n))).toEqual(new Set(['l1', 'l2', 'l3', 'l4']));
});

test('a write that fails unanswered while other writes to its origin are answered is flagged as failing alone', async ({ context, server }) => {
  const page = await openApp(context, server, { retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });
  expect((await write(page, 'POST', '/api/items', { n: 'fine' }, inLane('b'))).status).toBe(201);
  // Every attempt of it is reset (Chromium's sync event tries it again at once).
  for (let i = 0; i < 5; i++) server.fail({ kind: 'reset' }, TestServer.bodyHas('n', 'broken'));
  expect((await write(page, 'POST', '/api/items', { n: 'broken' }, inLane('a'))).status).toBe(202);
  const [lane] = (await snapshot(page)).lanes;
  expect(lane).toMatchObject({ lane: 'a', failingAlone: true, lastError: expect.stringContaining('other writes to this origin are answered') });
  const scheduledMessages = () => page.evaluate(() => window.statusLog.filter((message: StatusMessage) => message.type === 'retry-scheduled'));
  await statusSince(page, 0, 'retry-scheduled');
  const scheduled = await scheduledMessages();
  for (const message of scheduled) expect(message).toMatchObject({ failingAlone: true });
});

test('a cross-origin write its server refuses (no CORS) blocks no same-origin write, and the app can cancel it, then discard it', async ({ context, server }) => {
  const other = await TestServer.start();
  try {
    const otherOrigin = other.url.replace('127.0.0.1', 'localhost');
    const page = await openApp(context, server, { origins: [otherOrigin], retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });
    // Not under /api/: the other server sends no CORS headers there, so the preflight fails.
    const refused = await write(page, 'POST', `${otherOrigin}/no-cors/items`, { n: 'elsewhere' });
    expect(refused.status).toBe(202);
    const { id } = (JSON.parse(refused.text) as { outbox: { id: number } }).outbox;

    for (const n of ['own-1', 'own-2']) expect((await write(page, 'POST', '/api/items', { n })).status).toBe(201);
    expect(server.commits.map((commit) => JSON.parse(commit.body).n)).toEqual(['own-1', 'own-2']);
    // Chromium's sync event may be trying it again right now: wait until it waits.
    await expect.poll(() => snapshot(page).then((s) => s.lanes)).toEqual([expect.objectContaining({ lane: `${otherOrigin} default`, head: id, state: 'pending' })]);

    await page.evaluate((entry) => window.outbox.cancel(entry), id);
    const cancelled = await snapshot(page);
    expect(cancelled.counts).toEqual({ pending: 0, deadLetters: 1, conflicts: 0 });
    expect(cancelled.deadLetters).toEqual([expect.objectContaining({ id, deadCode: 'cancelled', deadReason: 'cancelled by the app' })]);
    const twice = await page.evaluate((entry) => window.outbox.cancel(entry).catch((error: { code: string }) => error.code), id);
    expect(twice).toBe('not-pending');
    await page.evaluate((entry) => window.outbox.discard(entry), id);
    expect((await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
    expect(other.commits).toHaveLength(0);
  } finally {
    await other.stop();
  }
});

test('a write being sent cannot be cancelled: the error says its answer is on its way', async ({ context, server }) => {
  const page = await openApp(context, server);
  server.fail({ kind: 'hold' });
  await startWrite(page, '/api/items', { n: 'held' }, {});
  await server.waitForArrivals(1);
  const [entry] = (await snapshot(page)).entries;
  const error = await page.evaluate((id) => window.outbox.cancel(id).catch((e: { code: string; message: string }) => ({ code: e.code, message: e.message })), entry!.id);
  expect(error).toMatchObject({ code: 'sending', message: expect.stringContaining('is being sent right now') });
  server.release();
  await server.waitForCommits(1);
});

test('a write naming an invalid lane gets a 400 from the outbox that says why, and is not kept', async ({ context, server }) => {
  const page = await openApp(context, server);
  const answer = await write(page, 'POST', '/api/items', { n: 1 }, inLane('has space'));
  expect(answer.status).toBe(400);
  expect(JSON.parse(answer.text)).toMatchObject({ title: 'Invalid Outbox-Lane', detail: expect.stringContaining('"has space"') });
  expect(server.arrivals).toHaveLength(0);
  expect((await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});
