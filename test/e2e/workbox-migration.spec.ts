import type { Page } from '@playwright/test';
import { expect, pageControlledBy, test } from '../support/fixtures.js';
import { buildWorker } from '../support/workers.js';
import { goOnline } from '../support/online.js';

/**
 * A Workbox app, and a Serwist app, updated from BackgroundSyncPlugin to OutboxPlugin, one
 * line changed (test/workers/<app>-sync-sw.ts, then <app>-outbox-sw.ts, both served as
 * /outbox-sw.js), with writes still waiting in the old queue when the update lands.
 */
const workboxQueue = (page: Page, database: string) =>
  page.evaluate(
    (name) =>
      new Promise<{ id: number; queueName: string; url: string }[]>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('requests').objectStore('requests').getAll();
          all.onsuccess = () => {
            open.result.close();
            resolve(all.result.map(({ id, queueName, requestData }) => ({ id, queueName, url: requestData.url })));
          };
        };
      }),
    database,
  );
/** The page helper as the page loads it (this page registered the worker itself). */
const helper = (page: Page) => page.evaluate(async () => {
  const url = '/dist/client/index.js';
  const { OutboxClient } = (await import(url)) as typeof import('../../client/index.js');
  (window as unknown as { helper: InstanceType<typeof OutboxClient> }).helper = new OutboxClient();
});
const outboxCounts = (page: Page) => page.evaluate(() => (window as unknown as { helper: import('../../client/index.js').OutboxClient }).helper.snapshot().then((s) => s.counts));

for (const [app, database] of [['workbox', 'workbox-background-sync'], ['serwist', 'serwist-background-sync']] as const) {
  test(`writes waiting in ${app}’s queue are moved into the outbox when the new worker activates, once, and delivered once in order`, async ({ context, server }) => {
    server.workerScript = await buildWorker(`${app}-sync-sw`);
    // Workbox and Serwist send their writes without keys; the server takes them, as it did before.
    server.requireKey = false;
    const page = await pageControlledBy(context, server, '/outbox-sw.js');

    // The device is offline: Workbox keeps each write (and fails the page's fetch, as it does).
    for (let i = 0; i < 30; i++) server.fail({ kind: 'reset' });
    await context.setOffline(true);
    const before = await page.evaluate(async () => {
      const outcomes = [];
      for (const i of [1, 2, 3]) outcomes.push(await fetch('/api/items', { method: 'POST', body: JSON.stringify({ i }), headers: { 'Content-Type': 'application/json' } }).then((response) => String(response.status), (error: Error) => error.name));
      return outcomes;
    });
    expect(before).toEqual(['TypeError', 'TypeError', 'TypeError']);
    expect(server.arrivals).toHaveLength(0);
    // Back online (the API still resetting): the queue's three sync registrations, made
    // offline, fire as one sync event. Its replay takes the first write out of the store,
    // sends it (reset) and puts it back; the browser's next try is minutes away. A move made
    // during such a replay would miss that write (decision 0016), so the update comes once
    // the one replay has put it back.
    await goOnline(context);
    await expect.poll(() => server.arrivals.length).toBe(1);
    await expect.poll(() => workboxQueue(page, database)).toHaveLength(3);
    const saved = await page.evaluate(
      (name) =>
        new Promise<unknown[]>((resolve) => {
          const open = indexedDB.open(name);
          open.onsuccess = () => {
            const all = open.result.transaction('requests').objectStore('requests').getAll();
            all.onsuccess = () => ((window as unknown as { saved: unknown[] }).saved = all.result) && resolve(all.result.map((record) => record.id));
          };
        }),
      database,
    );
    expect(saved).toHaveLength(3);

    // The update: the same app with OutboxPlugin. It takes over while the API is still down.
    server.workerScript = await buildWorker(`${app}-outbox-sw`);
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      await registration!.update();
      if (registration!.installing || registration!.waiting) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    });
    await expect.poll(() => workboxQueue(page, database)).toEqual([]);
    await helper(page);
    await expect.poll(() => outboxCounts(page)).toEqual({ pending: 3, deadLetters: 0, conflicts: 0 });

    // A migration cut short after the outbox kept the writes but before Workbox's records
    // went: put them back, restart the worker, and the next start moves nothing twice.
    await page.evaluate(
      (name) =>
        new Promise<void>((resolve) => {
          const open = indexedDB.open(name);
          open.onsuccess = () => {
            const tx = open.result.transaction('requests', 'readwrite');
            for (const record of (window as unknown as { saved: unknown[] }).saved) tx.objectStore('requests').put(record);
            tx.oncomplete = () => (open.result.close(), resolve());
          };
        }),
      database,
    );
    expect(await workboxQueue(page, database)).toHaveLength(3);
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await outboxCounts(page); // starts the worker, which moves the queue again
    await expect.poll(() => workboxQueue(page, database)).toEqual([]);
    expect(await outboxCounts(page)).toEqual({ pending: 3, deadLetters: 0, conflicts: 0 });

    // The API is back: each write once, in Workbox's order, each with its own key.
    server.clearFaults();
    await page.evaluate(() => (window as unknown as { helper: import('../../client/index.js').OutboxClient }).helper.replay());
    await server.waitForCommits(3);
    expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3]);
    expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(3);
    for (const commit of server.commits) expect(commit.key).toMatch(new RegExp(`^"[0-9a-f-]{36}\\.${database}\\.\\d+\\.\\d+"$`));
    await expect.poll(() => outboxCounts(page)).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
    expect(server.commits).toHaveLength(3);
  });
}
