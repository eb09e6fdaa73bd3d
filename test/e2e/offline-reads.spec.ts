import type { Page } from '@playwright/test';
import { expect, openApp, test, write } from '../support/fixtures.js';

// The test page and the page helper it imports: what the app needs to open at all.
const SHELL = ['/', '/dist/client/index.js'];

interface Read {
  status: number;
  fromCache: string | null;
  cachedAt: string | null;
  text: string;
}

/** A GET as the app makes it; a network error comes back as `error`. */
const read = (page: Page, path: string): Promise<Read | { error: string }> =>
  page.evaluate(async (p) => {
    try {
      const response = await fetch(p);
      return { status: response.status, fromCache: response.headers.get('Outbox-From-Cache'), cachedAt: response.headers.get('Outbox-Cached-At'), text: await response.text() };
    } catch (error) {
      return { error: String(error) };
    }
  }, path);

const cachedPaths = (page: Page, cache: string): Promise<string[]> =>
  page.evaluate(async (name) => (await (await caches.open(name)).keys()).map((request) => new URL(request.url).pathname), cache);

test('with shell and reads listed, the app opens offline and shows its last data, marked as from the cache; other reads are never cached', async ({ context, server }) => {
  const page = await openApp(context, server, { shell: SHELL, reads: ['/api/items'] });
  expect((await write(page, 'POST', '/api/items', { i: 1 })).status).toBe(201);
  const online = await read(page, '/api/items');
  expect(online).toMatchObject({ status: 200, fromCache: null });
  expect(await read(page, '/api/other')).toMatchObject({ status: 200 });
  expect((await cachedPaths(page, 'sw-outbox-shell')).sort()).toEqual([...SHELL].sort());

  await context.setOffline(true);
  await page.reload();
  expect(await page.evaluate(() => window.outboxReady)).toBe(true);
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  const offline = await read(page, '/api/items');
  expect(offline).toMatchObject({ status: 200, fromCache: '?1', text: (online as Read).text });
  expect(Date.parse((offline as Read).cachedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
  expect(await read(page, '/api/other')).toHaveProperty('error');
  expect(await cachedPaths(page, 'sw-outbox-reads')).toEqual(['/api/items']);
});

test('the reads cache keeps at most readsMaxEntries, the least recently stored going first', async ({ context, server }) => {
  const page = await openApp(context, server, { reads: ['/api/items/'], readsMaxEntries: 2 });
  for (const n of [1, 2, 3, 1]) expect(await read(page, `/api/items/${n}`)).toMatchObject({ status: 200 });
  // The cache is trimmed after each answer, with no event to wait for.
  await expect.poll(() => cachedPaths(page, 'sw-outbox-reads')).toEqual(['/api/items/3', '/api/items/1']);
});

test('a cached read older than readsMaxAgeMs is deleted, not served', async ({ context, server }) => {
  const page = await openApp(context, server, { reads: ['/api/items'], readsMaxAgeMs: 1 });
  expect(await read(page, '/api/items')).toMatchObject({ status: 200 });
  await expect.poll(() => cachedPaths(page, 'sw-outbox-reads')).toEqual(['/api/items']);
  await context.setOffline(true);
  expect(await read(page, '/api/items')).toHaveProperty('error');
  expect(await cachedPaths(page, 'sw-outbox-reads')).toEqual([]);
});

test('without shell or reads, nothing is cached and an offline reload fails as it would without the outbox', async ({ context, server }) => {
  const page = await openApp(context, server);
  expect(await read(page, '/api/items')).toMatchObject({ status: 200 });
  expect(await page.evaluate(() => caches.keys())).toEqual([]);
  await context.setOffline(true);
  await expect(page.reload()).rejects.toThrow(/ERR_INTERNET_DISCONNECTED/);
});

test('a first visit: the reads a page made before the worker controlled it are cached once it does, those under reads only', async ({ context, server }) => {
  const page = await context.newPage();
  await page.goto(`${server.url}/?sw=none`);
  // The app reads its data at once, long before its worker is installed.
  await page.evaluate(() => Promise.all(['/api/lists/7', '/api/lists/8?page=2', '/api/other'].map((path) => fetch(path).then((response) => response.text()))));
  await page.evaluate(
    async ([helper, worker]) => {
      const { OutboxClient } = (await import(helper)) as typeof import('../../client/index.js');
      window.outbox = new OutboxClient();
      await navigator.serviceWorker.register(worker);
      if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    },
    ['/dist/client/index.js', '/outbox-sw.js?reads=/api/lists/*'] as const,
  );
  await expect.poll(() => cachedPaths(page, 'sw-outbox-reads')).toEqual(['/api/lists/7', '/api/lists/8']);
  await context.setOffline(true);
  expect(await read(page, '/api/lists/8?page=2')).toMatchObject({ status: 200, fromCache: '?1' });
});

test('a first visit with the one line only: the exact reads paths are fetched into the cache when the worker takes control', async ({ context, server }) => {
  const page = await context.newPage();
  await page.goto(`${server.url}/?sw=none`);
  await page.evaluate(async (worker) => {
    await navigator.serviceWorker.register(worker);
    if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
  }, '/outbox-sw.js?reads=/api/items,/api/lists/*');
  await expect.poll(() => cachedPaths(page, 'sw-outbox-reads')).toEqual(['/api/items']);
});
