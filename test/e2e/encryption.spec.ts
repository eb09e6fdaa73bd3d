import { chromium, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { DeviceKeys, MemoryDeviceKeyStore, type DeviceKeyRecord } from '../../server/device-keys.js';
import type { OutboxOptionsInput } from '../../sw/options.js';
import { deviceKeys, everythingStored, expect, openApp, test, write } from '../support/fixtures.js';
import { markedBinary, MARKERS } from '../support/markers.js';
import { filesContaining } from '../support/profile-search.js';
import type { TestServer } from '../support/test-server.js';
import { goOnline } from '../support/online.js';

// The test page and its page helper: what the app needs to open offline.
const SHELL = ['/', '/dist/client/index.js'];
const OPTIONS: OutboxOptionsInput = { include: ['/api/'], shell: SHELL, encryptionKeyUrl: '/outbox-key', retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 };
const binary = markedBinary;

/** A key store that also lists the keys it was given. */
function recording(issued: DeviceKeyRecord[]): MemoryDeviceKeyStore {
  const store = new MemoryDeviceKeyStore();
  const put = store.put.bind(store);
  store.put = (record) => {
    issued.push(record);
    return put(record);
  };
  return store;
}

/**
 * A browser on a profile on disk, as a real one keeps it, with the session cookie of
 * `user` (one that outlives a restart). The network is "down" when the server is: a
 * browser started with Playwright's offline emulation lets its service worker through.
 */
function profileBrowser(testInfo: TestInfo, server: TestServer, user: string) {
  const dir = testInfo.outputPath('profile');
  return async (): Promise<BrowserContext> => {
    const context = await chromium.launchPersistentContext(dir, testInfo.project.use.launchOptions ?? {});
    await context.addCookies([{ name: 'session', value: user, url: server.url, expires: Date.now() / 1000 + 3_600 }]);
    return context;
  };
}

/** Writes a JSON body, a binary one, a marked header and a marked Authorization; each must get the queued answer. */
async function writeMarked(page: Page, tag: keyof typeof MARKERS): Promise<void> {
  const { body, header, auth, bin } = MARKERS[tag];
  const json = await write(page, 'POST', '/api/notes', { note: body }, { 'X-Note': header, Authorization: `Bearer ${auth}` });
  expect(json.status).toBe(202);
  const bytes = await page.evaluate(async (sent) => (await fetch('/api/files', { method: 'PUT', body: new Uint8Array(sent), headers: { 'Content-Type': 'application/octet-stream' } })).status, binary(bin));
  expect(bytes).toBe(202);
}

/** Body, header, Authorization and binary markers, in that order. */
const markers = (tag: keyof typeof MARKERS) => [MARKERS[tag].body, MARKERS[tag].header, MARKERS[tag].auth, MARKERS[tag].bin];

test('encryption on: no marker in any IndexedDB record or profile file, through a restart offline, an offline reload and more writes; back online each write is delivered once, byte for byte', async ({ server }, testInfo) => {
  const issued: DeviceKeyRecord[] = [];
  server.keys = new DeviceKeys({ store: recording(issued) });
  const launch = profileBrowser(testInfo, server, 'ana');
  const dir = testInfo.outputPath('profile');

  let context = await launch();
  let page = await openApp(context, server, OPTIONS);
  await expect.poll(() => deviceKeys(page)).toBe(1);
  await server.stop(); // the network goes: connections refused
  await writeMarked(page, 'one');
  const stored = await everythingStored(page);
  expect(stored).toContain('/api/notes'); // what stays readable: the metadata
  for (const marker of markers('one')) expect(stored).not.toContain(marker);
  await context.close();
  expect(await filesContaining(dir, markers('one'))).toEqual([]);

  // The browser starts again with no network; the app opens from its cached shell and takes more writes.
  context = await launch();
  page = await context.newPage();
  await page.goto(`${server.url}/?${new URLSearchParams({ options: JSON.stringify(OPTIONS) })}`);
  await page.evaluate(() => window.outboxReady);
  await writeMarked(page, 'two');
  expect((await page.evaluate(() => window.outbox.snapshot())).counts.pending).toBe(4);
  // No private key to be had offline: the page is told the bodies are sealed, not given garbage.
  const unsent = await page.evaluate(() => window.outbox.pending({ bodies: true }).then((writes) => writes.map((w) => [w.sealed, w.body, w.contentType])));
  expect(unsent).toEqual(Array(4).fill([true, null, null]));
  const storedAgain = await everythingStored(page);
  for (const marker of [...markers('one'), ...markers('two')]) expect(storedAgain).not.toContain(marker);
  await context.close();
  expect(await filesContaining(dir, [...markers('one'), ...markers('two')])).toEqual([]);
  expect(server.commits).toEqual([]);

  // Online again: the worker fetches the private key with the session and sends each write once, in order.
  await server.listen();
  context = await launch();
  page = await openApp(context, server, OPTIONS);
  await page.evaluate(() => window.outbox.replay());
  await server.waitForCommits(4);
  expect(server.commits.map((commit) => commit.path)).toEqual(['/api/notes', '/api/files', '/api/notes', '/api/files']);
  expect(server.commits.map((commit) => commit.bytes)).toEqual([
    Buffer.from(JSON.stringify({ note: MARKERS.one.body })),
    Buffer.from(binary(MARKERS.one.bin)),
    Buffer.from(JSON.stringify({ note: MARKERS.two.body })),
    Buffer.from(binary(MARKERS.two.bin)),
  ]);
  const notes = server.arrivals.filter((arrival) => arrival.path === '/api/notes');
  expect(notes.map((arrival) => arrival.headers['x-note'])).toEqual([MARKERS.one.header, MARKERS.two.header]);
  expect(server.arrivals).toHaveLength(4); // once each
  await context.close();
  // The worker held the private key to send them: it was never written to the profile (nor the HTTP cache).
  expect(issued).toHaveLength(1);
  expect(await filesContaining(dir, [issued[0]!.privateKey.d!, ...markers('one'), ...markers('two')])).toEqual([]);
});

test('encryption off, the control: the same two searches find the body and header markers (never the Authorization, which is not stored at all)', async ({ server }, testInfo) => {
  const context = await profileBrowser(testInfo, server, 'ana')();
  const page = await openApp(context, server, { ...OPTIONS, encryptionKeyUrl: undefined });
  await server.stop();
  await writeMarked(page, 'plain');
  const [body, header, auth, bin] = markers('plain');
  const stored = await everythingStored(page);
  for (const marker of [body!, header!, bin!]) expect(stored).toContain(marker);
  expect(stored).not.toContain(auth);
  await context.close();
  const onDisk = await filesContaining(testInfo.outputPath('profile'), [body!, header!, auth!, bin!]);
  for (const marker of [body!, header!, bin!]) expect(onDisk.some((found) => found.startsWith(`${marker} in `))).toBe(true);
  expect(onDisk.filter((found) => found.startsWith(auth!))).toEqual([]);
});

test('revoking the device key makes the waiting writes unreadable: each becomes an undecryptable dead letter, none is sent, and the lane goes on', async ({ context, server }) => {
  const issued: DeviceKeyRecord[] = [];
  server.keys = new DeviceKeys({ store: recording(issued) });
  await context.addCookies([{ name: 'session', value: 'ana', url: server.url }]);
  const page = await openApp(context, server, OPTIONS);
  await page.evaluate(async (helper) => {
    const { defineOutboxStatus } = (await import(helper)) as typeof import('../../client/index.js');
    defineOutboxStatus();
    document.body.append(document.createElement('outbox-status'));
  }, '/dist/client/index.js');
  await expect.poll(() => deviceKeys(page)).toBe(1);
  await context.setOffline(true);
  for (const i of [1, 2]) expect((await write(page, 'POST', '/api/items', { i })).status).toBe(202);

  // The device is reported lost: the app's server revokes its key.
  expect(await server.keys.revoke('ana', { kid: issued[0]!.kid })).toBe(1);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  const snapshot = await page.evaluate(() => window.outbox.snapshot());
  expect(snapshot.counts).toEqual({ pending: 0, deadLetters: 2, conflicts: 0 });
  expect(snapshot.deadLetters.map((dead) => [dead.id, dead.deadCode])).toEqual([[1, 'undecryptable'], [2, 'undecryptable']]);
  expect(snapshot.deadLetters[0]!.deadReason).toMatch(/revoked/);
  expect(server.arrivals).toEqual([]);
  await expect(page.locator('outbox-status details.refused')).toHaveAttribute('open', ''); // opened by itself
  await expect(page.locator('outbox-status .dead-letters li')).toHaveCount(2);
  await expect(page.locator('outbox-status .dead-letters li').first()).toContainText('revoked, so it can no longer be read');
  await expect(page.locator('outbox-status .dead-letters li').first().getByRole('button')).toHaveText(['Discard']); // no Retry: it would fail the same way
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 400 });
    await page.screenshot({ path: test.info().outputPath(`undecryptable-${width}.png`) });
  }
  // The revoked key seals nothing more: a write made now gets a key of its own, and is delivered.
  expect((await write(page, 'POST', '/api/items', { i: 3 })).status).toBe(201);
  expect(issued.map((key) => key.kid)).toHaveLength(2);
  expect(await page.evaluate(() => new Promise<string>((resolve) => {
    indexedDB.open('sw-outbox').onsuccess = (event) => {
      const all = (event.target as IDBOpenDBRequest).result.transaction('keys').objectStore('keys').getAll();
      all.onsuccess = () => resolve(all.result.map((key: { kid: string }) => key.kid).join());
    };
  }))).toBe(issued[1]!.kid);
});
