import { chromium } from '@playwright/test';
import { expect, logged, openApp, statusSince, stopWorkerMidReplay, test, write } from '../support/fixtures.js';
import { TestServer } from '../support/test-server.js';
import { SYNC_TAG } from '../../sw/protocol.js';

const bodies = (server: TestServer) => server.commits.map((commit) => JSON.parse(commit.body).i as number);

test('the worker is killed in the middle of a replay: nothing lost, nothing applied twice', async ({ context, server }) => {
  const page = await openApp(context, server);
  await stopWorkerMidReplay(context, page, server);

  // The held answer died with the worker. A page message starts a new one.
  const killed = await logged(page);
  await page.evaluate(() => window.outbox.replay());
  await server.waitForCommits(5);
  expect(bodies(server)).toEqual([1, 2, 3, 4, 5]);
  const third = server.commits[2]!.key;
  expect(server.arrivalsFor(third)).toHaveLength(2);
  expect(server.commitsFor(third)).toHaveLength(1);
  await statusSince(page, killed, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});

test('the worker is killed while an online write, sent as it was stored, waits for its answer: the write the browser hands the next worker is the same write, sent again with its key, and applied once', async ({ context, server }) => {
  const page = await openApp(context, server);
  // The store knows its meta record after one write: the next one on its free lane goes
  // out while its transaction runs (decision 0029).
  expect((await write(page, 'POST', '/api/items', { i: 1 })).status).toBe(201);
  server.fail({ kind: 'hold' }, TestServer.bodyHas('i', 2));
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  const killedWrite = write(page, 'POST', '/api/items', { i: 2 });
  await server.waitFor(() => server.arrivals.some(TestServer.bodyHas('i', 2)), 'the 2nd write to arrive');
  const killed = await logged(page);
  await cdp.send('ServiceWorker.stopAllWorkers');
  // Chromium hands the page's fetch to the next worker, which finds it is the write the
  // stopped worker was sending: it sends that one again, with its key, and keeps no other.
  expect((await killedWrite).status).toBe(201);
  await server.waitForCommits(2);
  expect(bodies(server)).toEqual([1, 2]);
  const second = server.commits[1]!.key;
  expect(server.arrivals.filter(TestServer.bodyHas('i', 2)).map((arrival) => arrival.key)).toEqual([second, second]);
  expect(server.commitsFor(second)).toHaveLength(1);
  await statusSince(page, killed, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});

test(`a sync event with tag "${SYNC_TAG}" (DevTools' Sync button) replays the outbox`, async ({ context, server }) => {
  // A long backoff, so no timer replays before the sync event does.
  const page = await openApp(context, server, { retryBaseMs: 600_000, retryMaxMs: 600_000 });
  server.fail({ kind: 'reset' });
  expect((await write(page, 'POST', '/api/items', { i: 1 })).status).toBe(202);

  const cdp = await context.newCDPSession(page);
  const registration = new Promise<string>((resolve) =>
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const id = registrations[0]?.registrationId;
      if (id) resolve(id);
    }),
  );
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.dispatchSyncEvent', { origin: server.url, registrationId: await registration, tag: SYNC_TAG, lastChance: false });
  await server.waitForCommits(1);
  expect(server.arrivals).toHaveLength(2);
});

test('the browser is closed with writes in the outbox and reopened on the same profile: all replayed', async ({ server }, testInfo) => {
  const profile = testInfo.outputPath('profile');
  const launch = () => chromium.launchPersistentContext(profile, testInfo.project.use.launchOptions ?? {});

  let context = await launch();
  const page = await openApp(context, server);
  await context.setOffline(true);
  for (let i = 1; i <= 3; i++) expect((await write(page, 'POST', '/api/items', { i })).status).toBe(202);
  await context.close();
  expect(server.arrivals).toHaveLength(0);

  // Reopened with no page of the app: Chromium fires the pending sync at start-up.
  context = await launch();
  try {
    await server.waitForCommits(3);
    expect(bodies(server)).toEqual([1, 2, 3]);
    expect(server.arrivals).toHaveLength(3);
  } finally {
    await context.close();
  }
});
