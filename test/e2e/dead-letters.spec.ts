import { expect, logged, openApp, statusSince, test, write } from '../support/fixtures.js';
import { TestServer } from '../support/test-server.js';
import type { QueuedBody } from '../../sw/protocol.js';
import type { Snapshot } from '../../sw/commands.js';
import type { Page } from '@playwright/test';
import { goOnline } from '../support/online.js';

const snapshot = (page: Page): Promise<Snapshot> => page.evaluate(() => window.outbox.snapshot());

test('a 400 on the 2nd of 3 queued writes: the 1st and 3rd commit, the 2nd is a dead letter the page can retry and discard', async ({ context, server }) => {
  const page = await openApp(context, server);
  await context.setOffline(true);
  const queued: QueuedBody['outbox'][] = [];
  for (let i = 1; i <= 3; i++) queued.push((JSON.parse((await write(page, 'POST', '/api/items', { i })).text) as QueuedBody).outbox);
  const keys = queued.map((body) => body.idempotencyKey);
  server.fail({ kind: 'status', status: 400 }, TestServer.bodyHas('i', 2));

  await goOnline(context);
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => commit.key)).toEqual([keys[0], keys[2]]);

  await statusSince(page, 0, 'drained');
  expect((await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 1, conflicts: 0 });
  const [dead] = (await snapshot(page)).deadLetters;
  expect(dead).toMatchObject({ id: queued[1]!.id, method: 'POST', url: `${server.url}/api/items`, state: 'dead', lastStatus: 400, deadReason: 'HTTP 400' });

  // What the server objected to was fixed: retry sends the write again, under the id the
  // page's 202 gave it. The server keeps its 400 for the old key and applied nothing, so
  // the retry carries a new key.
  const retried = await page.evaluate((id) => window.outbox.retry(id), queued[1]!.id);
  expect(retried).toMatchObject({ id: queued[1]!.id, seq: 4 });
  await server.waitForCommits(3);
  expect(server.commits[2]?.body).toBe(JSON.stringify({ i: 2 }));
  expect(server.commits[2]?.key).toMatch(/^"[0-9a-f-]{36}"$/);
  expect(keys).not.toContain(server.commits[2]?.key);
  // Retried at the tail, with a new sequence number: the server sees the order it happens in.
  expect(server.commits[2]!.seq).toBeGreaterThan(server.commits[1]!.seq!);
  expect((await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });

  // Discard deletes another dead letter for good.
  await context.setOffline(true);
  await write(page, 'POST', '/api/items', { i: 4 });
  server.fail({ kind: 'status', status: 422 });
  const mark = await logged(page);
  await goOnline(context);
  await statusSince(page, mark, 'dead-lettered');
  expect((await snapshot(page)).deadLetters).toHaveLength(1);
  const [unwanted] = (await snapshot(page)).deadLetters;
  await page.evaluate((id) => window.outbox.discard(id), unwanted!.id);
  expect((await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
  expect(server.commits).toHaveLength(3);

  // Only dead letters can be retried or discarded; the error says so by code.
  const codes = await page.evaluate(async () => {
    const code = (error: unknown) => (error as { code: string }).code;
    return [await window.outbox.discard(9_999).catch(code), await window.outbox.retry(9_999).catch(code)];
  });
  expect(codes).toEqual(['not-found', 'not-found']);
});

test('a 4xx answer to a page that is still waiting goes to that page, not to the dead letters', async ({ context, server }) => {
  const page = await openApp(context, server);
  server.fail({ kind: 'status', status: 400 });
  const answer = await write(page, 'POST', '/api/items', { invalid: true });
  expect(answer.status).toBe(400);
  expect(JSON.parse(answer.text)).toMatchObject({ status: 400 });
  expect((await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});

test('a write retried past maxAttempts becomes a dead letter with its reason, and blocks nothing behind it', async ({ context, server }) => {
  const page = await openApp(context, server, { maxAttempts: 2, retryBaseMs: 1, retryMaxMs: 50 });
  await context.setOffline(true);
  await write(page, 'POST', '/api/items', { i: 1 });
  await write(page, 'POST', '/api/items', { i: 2 });
  server.fail({ kind: 'status', status: 500 }, TestServer.bodyHas('i', 1));
  server.fail({ kind: 'status', status: 500 }, TestServer.bodyHas('i', 1));
  await goOnline(context);
  await server.waitForCommits(1);
  expect(JSON.parse(server.commits[0]!.body)).toEqual({ i: 2 });
  const [dead] = (await snapshot(page)).deadLetters;
  expect(dead?.deadReason).toBe('gave up after 2 retryable answers, the last HTTP 500');
});
