import { expect, logged, openApp, statusSince, statusTypes, test, write } from '../support/fixtures.js';
import { PROTOCOL_VERSION } from '../../sw/protocol.js';
import { goOnline } from '../support/online.js';

test('two tabs writing offline at once: every write committed once', async ({ context, server }) => {
  const tabs = [await openApp(context, server), await openApp(context, server)];
  await context.setOffline(true);
  await Promise.all(
    tabs.map(async (tab, t) => {
      for (let i = 1; i <= 10; i++) expect((await write(tab, 'POST', '/api/items', { tab: t, i })).status).toBe(202);
    }),
  );
  await goOnline(context);
  await server.waitForCommits(20);

  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(20);
  expect(server.arrivals).toHaveLength(20);
  const bodies = server.commits.map((commit) => JSON.parse(commit.body) as { tab: number; i: number });
  for (const t of [0, 1]) expect(bodies.filter((body) => body.tab === t).map((body) => body.i)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const seqs = server.commits.map((commit) => commit.seq!);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
});

test('with no SyncManager in the worker (as in Firefox and Safari), writes replay after reconnecting through page messages', async ({ context, server }) => {
  // A long backoff, so that no worker timer replays: only the page's message can.
  const page = await openApp(context, server, { retryBaseMs: 600_000, retryMaxMs: 600_000 }, '/no-sync-sw.js');
  const [worker] = context.serviceWorkers();
  expect(worker?.url()).toContain('/no-sync-sw.js');
  expect(await worker!.evaluate(() => 'SyncManager' in self || (self as unknown as { registration: { sync?: unknown } }).registration.sync !== undefined)).toBe(false);

  // The outage is at the server (connections refused). Playwright's setOffline(false)
  // would tell the page before the worker, and the page's replay could beat the network.
  await server.stop();
  for (let i = 1; i <= 3; i++) expect((await write(page, 'POST', '/api/items', { i })).status).toBe(202);
  await server.listen();
  expect(server.arrivals).toHaveLength(0);

  await page.evaluate(() => dispatchEvent(new Event('online'))); // what the browser fires on reconnecting
  await server.waitForCommits(3);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3]);
});

test('the page helper receives queued, sending, sent, retry-scheduled, dead-lettered and drained, without bodies or header values', async ({ context, server }) => {
  // A long backoff, so that only the steps below make the worker try again.
  const page = await openApp(context, server, { retryBaseMs: 600_000, retryMaxMs: 600_000 });
  await write(page, 'POST', '/api/items', { secret: 'body-online' });
  await statusSince(page, 0, 'drained');
  expect(await statusTypes(page)).toEqual(['queued', 'sending', 'sent', 'drained']);

  await page.evaluate(() => (window.statusLog.length = 0));
  await server.stop();
  await write(page, 'POST', '/api/items', { secret: 'body-offline' });
  // The page has its queued answer first; the message follows the bookkeeping. Chromium,
  // which thinks it is online, may fire the sync event registered on failure at once:
  // more attempts, also refused (once in a few runs under load, two of them).
  await statusSince(page, 0, 'retry-scheduled');
  expect((await statusTypes(page)).slice(0, 3)).toEqual(['queued', 'sending', 'retry-scheduled']);
  const refused = await statusTypes(page);
  expect(refused.slice(3).join()).toMatch(/^(sending,retry-scheduled,?)*(sending)?$/);

  await server.listen();
  server.fail({ kind: 'status', status: 422 });
  const refusedNow = await logged(page);
  await page.evaluate(() => window.outbox.replay());
  await statusSince(page, refusedNow, 'drained');
  expect((await statusTypes(page)).slice(-3)).toEqual(['sending', 'dead-lettered', 'drained']);

  const log = await page.evaluate(() => window.statusLog);
  expect(log.at(-1)?.counts).toEqual({ pending: 0, deadLetters: 1, conflicts: 0 });
  expect(log[0]?.counts).toEqual({ pending: 1, deadLetters: 0, conflicts: 0 });
  for (const message of log) expect(message).toMatchObject({ protocol: 'sw-outbox', version: PROTOCOL_VERSION });
  const text = JSON.stringify(log);
  expect(text).not.toContain('body-offline');
  expect(text).not.toContain(server.arrivals[0]!.headers['idempotency-key']);
  expect(text).not.toContain(server.arrivals[0]!.headers['outbox-client-id']);
});
