import { expect, pageControlledBy, test, write } from '../support/fixtures.js';
import { buildRelease01, RELEASE_0_1 } from '../support/release-0.1.js';
import type { QueuedBody } from '../../sw/protocol.js';

// Retries a day away, so that only the steps below make either release send.
const WORKER_URL = '/outbox-sw.js?retryBaseMs=86400000&retryMaxMs=86400000';

test(`a site updates from 0.1 (${RELEASE_0_1}) with writes waiting in its users' browsers: each is delivered once, in order, with its original key`, async ({ context, server }) => {
  server.workerScript = await buildRelease01();
  const page = await pageControlledBy(context, server, WORKER_URL);

  // 0.1 keeps five writes made while the API is down, and refuses one for good.
  await server.stop();
  const queued: QueuedBody[] = [];
  for (let i = 1; i <= 5; i++) {
    const answer = await write(page, 'POST', '/api/items', { i });
    expect(answer.status).toBe(202);
    queued.push(JSON.parse(answer.text) as QueuedBody);
  }
  await server.listen();
  expect(server.arrivals).toHaveLength(0);
  const v1Version = await page.evaluate(async () => (await indexedDB.databases()).find((db) => db.name === 'sw-outbox')?.version);
  expect(v1Version).toBe(1);

  // The site deploys this release; the browser's update check finds it.
  server.workerScript = new URL('../../dist/outbox-sw.js', import.meta.url).pathname;
  const controllerChanged = page.evaluate(() => new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })));
  await page.evaluate(() => navigator.serviceWorker.getRegistration().then((registration) => registration!.update()));
  await controllerChanged;

  // A page of the new release asks for a replay when it is made, as on any page load.
  await page.evaluate(async (helper) => {
    const { OutboxClient } = (await import(helper)) as typeof import('../../client/index.js');
    await new OutboxClient().replay();
  }, '/dist/client/index.js');
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
  const version = await page.evaluate(async () => (await indexedDB.databases()).find((db) => db.name === 'sw-outbox')?.version);
  expect(version).toBe(2);
});
