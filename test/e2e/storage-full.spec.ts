import { chromium } from '@playwright/test';
import { expect, logged, openApp, statusSince, test } from '../support/fixtures.js';
import type { StatusMessage } from '../../sw/protocol.js';
import { goOnline } from '../support/online.js';

test('over quota: a write the outbox accepted is still delivered; one that did not fit is not half-stored, is answered 507 Outbox-Not-Stored, and pages are told', async ({ server }, testInfo) => {
  // The default profile of a persistent context: Chromium applies a quota override there.
  const context = await chromium.launchPersistentContext(testInfo.outputPath('profile'), testInfo.project.use.launchOptions ?? {});
  try {
    // The quota is set before the origin stores anything.
    const blank = await context.newPage();
    await blank.goto(`${server.url}/?sw=none`);
    const cdp = await context.newCDPSession(blank);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: `${server.url}/`, quotaSize: 2 * 1024 * 1024 });
    const page = await openApp(context, server, { retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });
    await context.setOffline(true);
    // Random bytes: the database compresses what it stores, so repeated text would take no room.
    const post = (kib: number) =>
      page.evaluate((size) => {
        const bytes = new Uint8Array(size * 1024);
        for (let i = 0; i < bytes.length; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
        const body = new Blob([JSON.stringify({ size }), '\n', bytes]);
        return fetch('/api/items', { method: 'POST', body }).then(async (r) => ({ status: r.status, notStored: r.headers.get('Outbox-Not-Stored'), queued: r.headers.get('Outbox-Queued'), type: r.status === 202 ? null : ((await r.json()) as { type: string }).type }));
      }, kib);
    expect(await post(256)).toMatchObject({ status: 202, queued: '?1', notStored: null });
    // Did not fit, and could not be sent: a distinct answer, never "queued".
    expect(await post(5 * 1024)).toEqual({ status: 507, notStored: '?1', queued: null, type: 'tag:sw-outbox,2026:not-stored' });
    // The outbox says how much the origin stores. (Chromium's estimate() gives the disk's
    // quota, not the override above, which IndexedDB enforces.)
    const { storage } = await page.evaluate(() => window.outbox.snapshot());
    expect(storage).toMatchObject({ quota: expect.any(Number), usage: expect.any(Number), persisted: expect.any(Boolean) });
    expect(storage!.usage).toBeGreaterThan(256 * 1024);
    const offline = await logged(page);
    await goOnline(context); // Chromium's sync event replays
    await server.waitForCommits(1, 30_000);
    expect(server.commits.map((commit) => JSON.parse(commit.body.slice(0, commit.body.indexOf('\n'))).size)).toEqual([256]);
    await statusSince(page, offline, 'drained');
    expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
    // The page was told that the write it did not get kept was not kept.
    const full = await page.evaluate(() => window.statusLog.filter((message: StatusMessage) => message.type === 'storage-full'));
    expect(full[0]).toMatchObject({ type: 'storage-full', kept: false, error: expect.stringContaining('QuotaExceededError') });
  } finally {
    await context.close();
  }
});

test('the page helper asks for persistent storage, and snapshots say whether the browser granted it', async ({ context, server }) => {
  const page = await openApp(context, server);
  const granted = await page.evaluate(() => window.outbox.persist());
  expect(typeof granted).toBe('boolean');
  expect(await page.evaluate(() => navigator.storage.persisted())).toBe(granted);
  const { storage } = await page.evaluate(() => window.outbox.snapshot());
  expect(storage?.persisted).toBe(granted);
  expect(storage!.quota).toBeGreaterThan(0);
});
