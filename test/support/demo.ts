import { mkdir } from 'node:fs/promises';
import { test as base, expect, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { DemoServer } from '../../demo/server/demo-server.js';

/** Where the demo specs save their screenshots (test-results/ is not committed). */
const SCREENSHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname;

export const test = base.extend<{ demo: DemoServer }>({
  // eslint-disable-next-line no-empty-pattern
  demo: async ({}, use) => {
    const demo = await DemoServer.start();
    await use(demo);
    await demo.stop();
  },
});

export { expect };

/** Opens the grocery demo and waits until its data is shown and the outbox controls the page. */
export async function openDemo(context: BrowserContext, demo: DemoServer): Promise<Page> {
  const page = await context.newPage();
  await page.goto(demo.url);
  await page.locator('body[data-ready]').waitFor();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (navigator.serviceWorker.controller) return;
    await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
  });
  return page;
}

/** The `<outbox-status>` element's parts (Playwright's CSS locators pierce its shadow root). */
export function statusOf(page: Page) {
  const element = page.locator('outbox-status');
  return {
    element,
    network: element.locator('.network'),
    pending: element.locator('.pending'),
    activity: element.locator('.activity'),
    error: element.locator('.error'),
    sendNow: element.getByRole('button', { name: 'Send now' }),
    deadLetters: element.locator('.dead-letters li'),
    conflicts: element.locator('.conflicts li'),
  };
}

export function row(page: Page, itemId: string): Locator {
  return page.locator(`#items li[data-id="${itemId}"]`);
}

export async function addItem(page: Page, name: string): Promise<void> {
  await page.getByLabel('New item').fill(name);
  await page.getByLabel('New item').press('Enter');
}

export async function renameItem(page: Page, itemId: string, name: string): Promise<void> {
  const input = row(page, itemId).getByLabel('Item name');
  await input.fill(name);
  await input.press('Enter');
}

/** The current list as the page shows it, in order. */
export function itemsOnScreen(page: Page): Promise<{ name: string; done: boolean }[]> {
  return page.locator('#items li').evaluateAll((rows) =>
    rows.map((li) => ({
      name: (li.querySelector('input[aria-label="Item name"]') as HTMLInputElement).value,
      done: (li.querySelector('input[type="checkbox"]') as HTMLInputElement).checked,
    })),
  );
}

/** A list as the server has it, in order. */
export function itemsOnServer(demo: DemoServer, listId: string): { name: string; done: boolean }[] {
  return demo.api.model.list(listId).items.map(({ name, done }) => ({ name, done }));
}

/** The seeded list and its items' ids by name. */
export function seeded(demo: DemoServer): { listId: string; id: (name: string) => string } {
  const [list] = demo.api.model.lists();
  if (!list) throw new Error('the demo server has no seeded list');
  return {
    listId: list.id,
    id: (name) => {
      const item = list.items.find((candidate) => candidate.name === name);
      if (!item) throw new Error(`no item named ${name} in the seeded list`);
      return item.id;
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}

/** Asks the outbox to send what waits now, as the status element's Send now button does. */
export async function replayNow(page: Page): Promise<void> {
  await page.evaluate(() => window.outbox.replay());
}
