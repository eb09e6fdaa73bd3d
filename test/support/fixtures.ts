import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import type { ChannelMessage, OutboxClient, StatusMessage } from '../../client/index.js';
import type { OutboxOptionsInput } from '../../sw/options.js';
import { STORED_STRINGS } from './stored-strings.js';
import { TestServer } from './test-server.js';
import { goOnline } from './online.js';

/** What the test page (test/fixtures/index.html) puts on window. */
export interface TestWindow {
  outboxReady: Promise<boolean>;
  outbox: OutboxClient;
  statusLog: StatusMessage[];
  write(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<PageAnswer>;
  /** The demo's (demo/public/app.js). */
  groceries: { reload(): Promise<void> };
}

export interface PageAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

declare global {
  interface Window extends TestWindow {}
}

/** Opens the test page and waits until the outbox worker controls it. */
export async function openApp(context: BrowserContext, server: TestServer, options: OutboxOptionsInput = {}, sw?: string): Promise<Page> {
  const page = await context.newPage();
  const query = new URLSearchParams({ options: JSON.stringify(options) });
  if (sw) query.set('sw', sw);
  await page.goto(`${server.url}/?${query}`);
  await page.evaluate(() => window.outboxReady);
  return page;
}

/**
 * A page of the app with no outbox of the test page's making: it registers `script` itself,
 * as a site's own one line does, and waits until that worker controls it.
 */
export async function pageControlledBy(context: BrowserContext, server: TestServer, script: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.url}/?sw=none`);
  await page.evaluate(async (url) => {
    await navigator.serviceWorker.register(url);
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
  }, script);
  return page;
}

export function write(page: Page, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<PageAnswer> {
  return page.evaluate(([m, p, b, h]) => window.write(m, p, b, h), [method, path, body, headers] as const);
}

/** Every string in every IndexedDB database, store and record of the page's origin (see STORED_STRINGS). */
export function everythingStored(page: Page): Promise<string> {
  return page.evaluate(STORED_STRINGS) as Promise<string>;
}

/** How many device keys (their public halves, encryption at rest) the outbox keeps: one, once the worker can seal offline. */
export function deviceKeys(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('sw-outbox');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const count = open.result.transaction('keys').objectStore('keys').count();
          count.onsuccess = () => {
            open.result.close();
            resolve(count.result);
          };
        };
      }),
  );
}

/** Status message types the page has received, in order. */
export function statusTypes(page: Page): Promise<string[]> {
  return page.evaluate(() => window.statusLog.map((message) => message.type));
}

/** How many status messages the page has logged so far: a mark to wait from. */
export function logged(page: Page): Promise<number> {
  return page.evaluate(() => window.statusLog.length);
}

/**
 * Resolves once the page has a status message of this type, logged since `mark`: found in
 * its log, or awaited on its own subscription. No polling: the page hears the worker's
 * messages as they come.
 */
export async function statusSince(page: Page, mark: number, type: StatusMessage['type'], timeoutMs = 20_000): Promise<void> {
  await page.evaluate(
    ({ mark, type, timeoutMs }) => {
      if (window.statusLog.slice(mark).some((message) => message.type === type)) return;
      return new Promise<void>((resolve, reject) => {
        const stop = window.outbox.subscribe((message) => {
          if (message.type !== type) return;
          clearTimeout(timer);
          stop();
          resolve();
        });
        const timer = setTimeout(() => {
          stop();
          reject(new Error(`no "${type}" status message within ${timeoutMs} ms`));
        }, timeoutMs);
      });
    },
    { mark, type, timeoutMs },
  );
}

/**
 * Makes five writes offline, reconnects, and stops the worker while the 3rd is being sent
 * (the server holds its answer): a worker killed in the middle of a replay.
 */
export async function stopWorkerMidReplay(context: BrowserContext, page: Page, server: TestServer): Promise<void> {
  await context.setOffline(true);
  for (let i = 1; i <= 5; i++) await write(page, 'POST', '/api/items', { i });
  server.fail({ kind: 'hold' }, TestServer.bodyHas('i', 3));
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await goOnline(context);
  await server.waitFor(() => server.arrivals.some(TestServer.bodyHas('i', 3)), 'the 3rd write to arrive');
  await cdp.send('ServiceWorker.stopAllWorkers');
}

/**
 * Registers `url` from a page of the origin that has no page helper, and resolves with the
 * state its worker ends in and the first message heard on the status channel.
 */
export function registerAndListen(page: Page, url: string): Promise<{ message: ChannelMessage; state: string }> {
  return page.evaluate(async (scriptUrl) => {
    const channel = new BroadcastChannel('sw-outbox');
    const message = new Promise<ChannelMessage>((resolve) => (channel.onmessage = (event) => resolve(event.data)));
    const registration = await navigator.serviceWorker.register(scriptUrl);
    const worker = registration.installing!;
    const redundant = new Promise<string>((resolve) => worker.addEventListener('statechange', () => worker.state === 'redundant' && resolve(worker.state)));
    return { message: await message, state: await redundant };
  }, url);
}

export const test = base.extend<{ server: TestServer }>({
  // eslint-disable-next-line no-empty-pattern
  server: async ({}, use) => {
    const server = await TestServer.start();
    await use(server);
    server.release();
    await server.stop();
  },
});

export { expect };
