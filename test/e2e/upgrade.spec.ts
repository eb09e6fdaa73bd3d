import type { Page } from '@playwright/test';
import { DeviceKeys } from '../../server/device-keys.js';
import { deviceKeys, everythingStored, expect, pageControlledBy, test, write } from '../support/fixtures.js';
import { SPLIT_WORKER, type TestServer } from '../support/test-server.js';
import { buildWorkerAt, RELEASE_0_1, STORE_V2, STORE_V3, STORE_V4 } from '../support/earlier-releases.js';
/** The queued answer's body as the earlier releases gave it (before decision 0022 took its `id` away). */
interface EarlierQueuedBody {
  queued: true;
  id: number;
  idempotencyKey: string;
}

// Retries a day away, so that only the steps below make either release send.
const WORKER_URL = '/outbox-sw.js?retryBaseMs=86400000&retryMaxMs=86400000';

/** Makes `count` writes while the API is down; each is answered as queued. */
async function writeWhileDown(page: Page, server: TestServer, count: number): Promise<EarlierQueuedBody[]> {
  await server.stop();
  const queued: EarlierQueuedBody[] = [];
  for (let i = 1; i <= count; i++) {
    const answer = await write(page, 'POST', '/api/items', { i });
    expect(answer.status).toBe(202);
    queued.push(JSON.parse(answer.text) as EarlierQueuedBody);
  }
  await server.listen();
  return queued;
}

/** A page of this release asks for a replay, as on any page load. */
const replayFromThisRelease = (page: Page) =>
  page.evaluate(async (helper) => {
    const { OutboxClient } = (await import(helper)) as typeof import('../../client/index.js');
    await new OutboxClient().replay();
  }, '/dist/client/index.js');

const storeVersion = (page: Page) => page.evaluate(async () => (await indexedDB.databases()).find((db) => db.name === 'sw-outbox')?.version);

/**
 * The site deploys this release, as the core and feature files of dist/outbox-sw/ (the
 * everything build's code is the same, and every other spec runs it); the browser's
 * update check finds it, and it takes control. With `options`, the site also changes its
 * one line to add them (a new registration URL), and the features they use are loaded.
 */
async function deployThisRelease(page: Page, server: TestServer, options?: string): Promise<void> {
  server.workerScript = SPLIT_WORKER;
  const controllerChanged = page.evaluate(() => new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })));
  if (options === undefined) await page.evaluate(() => navigator.serviceWorker.getRegistration().then((registration) => registration!.update()));
  else await page.evaluate((url) => navigator.serviceWorker.register(url), `${WORKER_URL}${options}`);
  await controllerChanged;
}

test(`a site updates from 0.1 (${RELEASE_0_1}) with writes waiting in its users' browsers: each is delivered once, in order, with its original key`, async ({ context, server }) => {
  server.workerScript = await buildWorkerAt(RELEASE_0_1);
  const page = await pageControlledBy(context, server, WORKER_URL);

  // 0.1 keeps five writes made while the API is down.
  const queued = await writeWhileDown(page, server, 5);
  expect(server.arrivals).toHaveLength(0);
  expect(await storeVersion(page)).toBe(1);

  await deployThisRelease(page, server);

  // A page of the new release asks for a replay when it is made, as on any page load.
  await replayFromThisRelease(page);
  await server.waitForCommits(5);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3, 4, 5]);
  expect(server.commits.map((commit) => commit.key)).toEqual(queued.map((body) => body.idempotencyKey));
  expect(server.commits.map((commit) => commit.seq)).toEqual(queued.map((body) => body.id));
  expect(server.arrivals).toHaveLength(5);
  const clientIds = new Set(server.commits.map((commit) => commit.clientId));
  expect(clientIds.size).toBe(1);

  // The new release counts on from 0.1's sequence, as the same client.
  const next = await write(page, 'POST', '/api/items', { i: 6 });
  expect(next.status).toBe(201);
  expect(server.commits[5]).toMatchObject({ seq: 6, clientId: [...clientIds][0] });
  expect(await storeVersion(page)).toBe(5);
});

test(`a browser holding writes in store version 2 (${STORE_V2}) upgrades: they are delivered once, in order, with their keys; its dead letters stay dead letters`, async ({ context, server }) => {
  server.workerScript = await buildWorkerAt(STORE_V2);
  const page = await pageControlledBy(context, server, WORKER_URL);

  // Version 2 made a 412 on replay a dead letter (code conflict), and let its lane go on.
  await server.stop();
  expect((await write(page, 'POST', '/api/items', { i: 0 })).status).toBe(202);
  await server.listen();
  server.fail({ kind: 'status', status: 412 });
  const replay = async (helper: string) =>
    page.evaluate(async (url) => {
      const { OutboxClient } = (await import(url)) as typeof import('../../client/index.js');
      const client = new OutboxClient();
      await client.replay();
      return client.snapshot();
    }, helper);
  await expect.poll(async () => (await replay('/dist/client/index.js').catch(() => undefined))?.deadLetters.length ?? 'no answer').toBe(1);

  // Then three writes wait, the API down.
  const queued = await writeWhileDown(page, server, 3);
  expect(await storeVersion(page)).toBe(2);

  await deployThisRelease(page, server);

  const snapshot = await replay('/dist/client/index.js');
  await server.waitForCommits(3);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3]);
  expect(server.commits.map((commit) => commit.key)).toEqual(queued.map((body) => body.idempotencyKey));
  expect(server.commits.map((commit) => commit.seq)).toEqual(queued.map((body) => body.id));
  expect(snapshot.deadLetters.map((entry) => [entry.deadCode, entry.lastStatus])).toEqual([['conflict', 412]]);
  expect(snapshot.conflicts).toEqual([]);
  const after = await replay('/dist/client/index.js');
  expect(after.counts).toEqual({ pending: 0, deadLetters: 1, conflicts: 0 });
  expect(await storeVersion(page)).toBe(5);
});

test(`a browser holding writes in store version 3 (${STORE_V3}) upgrades to this release with encryption turned on: the waiting writes are delivered once, in order, with their keys; a new one is stored sealed`, async ({ context, server }) => {
  server.keys = new DeviceKeys();
  await context.addCookies([{ name: 'session', value: 'ana', url: server.url }]);
  server.workerScript = await buildWorkerAt(STORE_V3);
  const page = await pageControlledBy(context, server, WORKER_URL);
  const queued = await writeWhileDown(page, server, 3);
  expect(await storeVersion(page)).toBe(3);

  // The site deploys this release, with the key endpoint and the option that turns encryption on.
  await deployThisRelease(page, server, '&encryptionKeyUrl=/outbox-key');
  await expect.poll(() => deviceKeys(page)).toBe(1); // fetched as the new worker started
  await server.stop();
  expect((await write(page, 'POST', '/api/items', { i: 4, note: 'mk-upgrade-sealed-31c9' })).status).toBe(202);
  expect(await everythingStored(page)).not.toContain('mk-upgrade-sealed-31c9');
  expect(await storeVersion(page)).toBe(5);
  await server.listen();

  await replayFromThisRelease(page);
  await server.waitForCommits(4);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3, 4]);
  expect(server.commits.slice(0, 3).map((commit) => commit.key)).toEqual(queued.map((body) => body.idempotencyKey));
  expect(server.commits.map((commit) => commit.seq)).toEqual([1, 2, 3, 4]);
  expect(JSON.parse(server.commits[3]!.body).note).toBe('mk-upgrade-sealed-31c9');
  // Once each on the server. The old worker may still be sending when the new one takes
  // over: the new one then sends that write again with its key, which the server answers.
  expect(server.commits).toHaveLength(4);
  expect(new Set(server.arrivals.map((arrival) => arrival.key))).toEqual(new Set(server.commits.map((commit) => commit.key)));
});

test(`a browser holding writes in store version 4 (${STORE_V4}) upgrades to this release with collections turned on: the waiting writes are delivered once, in order, with their keys; a create made after it gets a provisional identity, and its edit reaches the real record`, async ({ context, server }) => {
  server.workerScript = await buildWorkerAt(STORE_V4);
  const page = await pageControlledBy(context, server, WORKER_URL);
  const queued = await writeWhileDown(page, server, 3);
  expect(await storeVersion(page)).toBe(4);

  // This release, with the test API's creates named a collection (its answers' `committed` is the id).
  await deployThisRelease(page, server, '&collections=/api/items&idMember=committed');
  await server.stop();
  const created = await write(page, 'POST', '/api/items', { i: 4 });
  expect(created.status).toBe(201);
  const provisional = (JSON.parse(created.text) as { committed: string }).committed;
  expect(provisional).toMatch(/^outbox-/);
  expect((await write(page, 'PATCH', `/api/items/${provisional}`, { i: 5 })).status).toBe(202);
  expect(await storeVersion(page)).toBe(5);
  await server.listen();

  await replayFromThisRelease(page);
  await server.waitForCommits(5);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3, 4, 5]);
  expect(server.commits.slice(0, 3).map((commit) => commit.key)).toEqual(queued.map((body) => body.idempotencyKey));
  expect(server.commits.map((commit) => commit.path)).toEqual(['/api/items', '/api/items', '/api/items', '/api/items', '/api/items/4']);
  expect(server.commits).toHaveLength(5);
});
