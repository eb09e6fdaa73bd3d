/**
 * The drop-in as a core and feature files (dist/outbox-sw/, decision 0031): each feature's
 * file is loaded with importScripts() when an option asks for it, and only then.
 */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceKeys } from '../../server/device-keys.js';
import { SPLIT_WORKER } from '../support/test-server.js';
import { deviceKeys, everythingStored, expect, openApp, registerAndListen, test, write } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

test('a site with no optional feature on loads the core alone, and its writes go as with the everything build', async ({ context, server }) => {
  server.workerScript = SPLIT_WORKER;
  const page = await openApp(context, server, {});
  expect((await write(page, 'POST', '/api/items', { i: 1 })).status).toBe(201);
  await context.setOffline(true);
  expect((await write(page, 'POST', '/api/items', { i: 2 })).status).toBe(202);
  await context.setOffline(false);
  await page.evaluate(() => window.outbox.replay());
  expect(server.commits.map((commit) => JSON.parse(commit.body))).toEqual([{ i: 1 }, { i: 2 }]);
  expect([...new Set(server.workerFiles)]).toEqual(['/outbox-sw.js']);
});

test('with reads on, the reads file is loaded beside the core, and the app opens offline from its cache', async ({ context, server }) => {
  server.workerScript = SPLIT_WORKER;
  const page = await openApp(context, server, { shell: ['/', '/dist/client/index.js'], reads: ['/api/items'] });
  expect((await write(page, 'POST', '/api/items', { i: 1 })).status).toBe(201);
  const online = await page.evaluate(() => fetch('/api/items').then((response) => response.text()));
  await context.setOffline(true);
  await page.reload();
  expect(await page.evaluate(() => window.outboxReady)).toBe(true);
  const offline = await page.evaluate(async () => {
    const response = await fetch('/api/items');
    return { fromCache: response.headers.get('Outbox-From-Cache'), text: await response.text() };
  });
  expect(offline).toEqual({ fromCache: '?1', text: online });
  expect([...new Set(server.workerFiles)]).toEqual(['/outbox-sw.js', '/outbox-sw-reads.js']);
});

test('every feature on: an offline create is sealed at rest and gets a provisional identity, its edit goes to the real record, and a read is answered from the cache offline', async ({ context, server }) => {
  server.workerScript = SPLIT_WORKER;
  server.keys = new DeviceKeys();
  await context.addCookies([{ name: 'session', value: 'ana', url: server.url }]);
  // The test API answers a create with `committed`, its count of commits: the id here.
  const page = await openApp(context, server, { collections: { paths: ['/api/items'], idMember: 'committed' }, encryptionKeyPath: '/outbox-key', reads: ['/api/items'] });
  await expect.poll(() => deviceKeys(page)).toBe(1);
  await page.evaluate(() => fetch('/api/items').then((response) => response.text()));
  await context.setOffline(true);
  expect(await page.evaluate(() => fetch('/api/items').then((response) => response.headers.get('Outbox-From-Cache')))).toBe('?1');
  const created = await write(page, 'POST', '/api/items', { name: 'milk-marker' });
  expect(created.status).toBe(201);
  const provisional = (JSON.parse(created.text) as { committed: string }).committed;
  expect((await write(page, 'PATCH', `/api/items/${provisional}`, { name: 'oat milk' })).status).toBe(202);
  expect(await everythingStored(page)).not.toContain('milk-marker');
  await goOnline(context);
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => `${commit.method} ${commit.path} ${commit.body}`)).toEqual(['POST /api/items {"name":"milk-marker"}', 'PATCH /api/items/1 {"name":"oat milk"}']);
  expect([...new Set(server.workerFiles)].sort()).toEqual(['/outbox-sw-at-rest.js', '/outbox-sw-collections.js', '/outbox-sw-reads.js', '/outbox-sw.js']);
});

test('a feature file missing beside the core: the worker does not install, and says which file to serve', async ({ page, server }) => {
  const alone = join(await mkdtemp(join(tmpdir(), 'sw-outbox-core-')), 'outbox-sw.js');
  await copyFile(SPLIT_WORKER, alone);
  server.workerScript = alone;
  await page.goto(`${server.url}/dist/client/index.js`);
  const report = await registerAndListen(page, '/outbox-sw.js?reads=/api/items');
  expect(report.state).toBe('redundant');
  expect(report.message).toMatchObject({ type: 'config-error', error: { code: 'invalid-option' } });
  expect(report.message.type === 'config-error' && report.message.error.message).toMatch(/option reads needs http:\/\/[^ ]+\/outbox-sw-reads\.js, which could not be loaded/);
});
