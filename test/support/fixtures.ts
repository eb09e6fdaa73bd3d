import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import type { OutboxClient, StatusMessage } from '../../client/index.js';
import type { OutboxOptionsInput } from '../../sw/options.js';
import { TestServer } from './test-server.js';

/** What the test page (test/fixtures/index.html) puts on window. */
export interface TestWindow {
  outboxReady: Promise<boolean>;
  outbox: OutboxClient;
  statusLog: StatusMessage[];
  write(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<PageAnswer>;
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

export function write(page: Page, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<PageAnswer> {
  return page.evaluate(([m, p, b, h]) => window.write(m, p, b, h), [method, path, body, headers] as const);
}

/** Status message types the page has received, in order. */
export function statusTypes(page: Page): Promise<string[]> {
  return page.evaluate(() => window.statusLog.map((message) => message.type));
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
