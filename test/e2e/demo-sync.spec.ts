import type { Page } from '@playwright/test';
import { addItem, replayNow, expect, itemsOnScreen, itemsOnServer, openDemo, renameItem, row, screenshot, seeded, statusOf, test } from '../support/demo.js';
import { goOnline } from '../support/online.js';

// Playwright lifts its offline emulation from the page before the worker, so the replay
// the page's `online` event asks for can fail and wait out a backoff. After reconnecting,
// the specs ask for a replay themselves, as the status element's Send now button does.

/** The seed scenario's edits: an add, a tick, a rename, a delete and a move. */
async function fiveEdits(page: Page, id: (name: string) => string): Promise<void> {
  await addItem(page, 'Coffee');
  await row(page, id('Milk')).getByRole('checkbox').check();
  await renameItem(page, id('Bread'), 'Sourdough');
  await row(page, id('Apples')).getByRole('button', { name: 'Delete Apples' }).click();
  await row(page, id('Eggs')).getByRole('button', { name: 'Move Eggs up' }).click();
}

test('the seed scenario: a list edited offline reaches the server after reconnecting, each write applied once, and the server list equals the screen', async ({ context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId, id } = seeded(demo);
  const status = statusOf(page);
  await expect(status.pending).toHaveText('All changes saved');
  await screenshot(page, 'demo-online');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'demo-online-390');
  await page.setViewportSize({ width: 1280, height: 720 });

  await context.setOffline(true);
  await expect(status.network).toHaveText('Offline');
  await fiveEdits(page, id);

  await expect(status.pending).toHaveText('5 waiting');
  await screenshot(page, 'demo-offline-pending');
  expect(demo.processed).toHaveLength(0);
  const onScreen = await itemsOnScreen(page);
  expect(onScreen).toEqual([
    { name: 'Eggs', done: false },
    { name: 'Milk', done: true },
    { name: 'Sourdough', done: false },
    { name: 'Coffee', done: false },
  ]);

  await goOnline(context);
  await expect(status.network).toHaveText('Online');
  await replayNow(page);
  await expect(status.pending).toHaveText('All changes saved');

  expect(itemsOnServer(demo, listId)).toEqual(onScreen);
  expect(await itemsOnScreen(page)).toEqual(onScreen);
  // Each write applied once, in the order it was made.
  expect(demo.processed.map(({ method, status }) => `${method} ${status}`)).toEqual(['POST 201', 'PATCH 200', 'PATCH 200', 'DELETE 204', 'POST 200']);
  expect(new Set(demo.processed.map(({ key }) => key)).size).toBe(5);
});

test('reloaded offline, the app opens and shows every edit still waiting, each marked; back online the marks clear and the list equals the server’s', async ({ context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId, id } = seeded(demo);
  const status = statusOf(page);
  // A first visit: the page's reads came before the worker controlled it. The page helper
  // has the worker keep them once it does (offline-reads.spec.ts proves that part alone);
  // the demo's own reload every 5 s would keep them too.
  const kept = () => page.evaluate(async () => (await (await caches.open('sw-outbox-reads')).keys()).map((request) => new URL(request.url).pathname).sort());
  await expect.poll(kept).toEqual(['/api/lists', `/api/lists/${listId}`, `/api/lists/${listId}/note`]);
  await context.setOffline(true);
  await fiveEdits(page, id);
  await expect(status.pending).toHaveText('5 waiting');
  const edited = await itemsOnScreen(page);
  const marked = () => page.locator('#items li.unsent input[aria-label="Item name"]').evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
  // Marked as soon as they are kept, before any reload.
  await expect.poll(marked).toEqual(['Eggs', 'Milk', 'Sourdough', 'Coffee']);

  await page.reload();
  await page.locator('body[data-ready]').waitFor();
  await expect.poll(() => itemsOnScreen(page)).toEqual(edited);
  expect(await marked()).toEqual(['Eggs', 'Milk', 'Sourdough', 'Coffee']);
  await expect(page.locator('#items li.unsent .unsent-mark').first()).toHaveText('not sent yet');
  await expect(status.pending).toHaveText('5 waiting');
  // Offline is a state, not an error; Send now cannot help, and says why.
  await expect(status.activity).toHaveText('Sent when back online');
  await expect(status.error).toBeHidden();
  await expect(status.sendNow).toBeDisabled();
  await expect(status.sendNow).toHaveAttribute('title', /^Offline/);
  // The outbox keeps trying while offline; the activity log folds those tries into one line.
  await expect(page.locator('#log .retry-scheduled').first()).toContainText(/· \d+ attempts$/);
  await screenshot(page, 'demo-offline-reloaded');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'demo-offline-reloaded-390');
  expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling at 390 px').toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 720 });

  await goOnline(context);
  await replayNow(page);
  await expect(status.pending).toHaveText('All changes saved');
  await expect.poll(marked).toEqual([]);
  expect(await itemsOnScreen(page)).toEqual(edited);
  expect(itemsOnServer(demo, listId)).toEqual(edited);
});

test('two tabs edit different items of one list offline; both sets of edits survive reconnecting', async ({ context, demo }) => {
  const { listId, id } = seeded(demo);
  const tabA = await openDemo(context, demo);
  const tabB = await openDemo(context, demo);

  await context.setOffline(true);
  await row(tabA, id('Milk')).getByRole('checkbox').check();
  await renameItem(tabA, id('Eggs'), 'Free-range eggs');
  await addItem(tabB, 'Tea');
  await row(tabB, id('Bread')).getByRole('button', { name: 'Delete Bread' }).click();
  // Each tab tells its own writes from the other's.
  await expect(statusOf(tabA).pending).toHaveText('4 waiting (2 from this tab)');
  await expect(statusOf(tabB).pending).toHaveText('4 waiting (2 from this tab)');
  await addItem(tabB, 'Jam');
  await expect(statusOf(tabA).pending).toHaveText('5 waiting (2 from this tab)');
  await expect(statusOf(tabB).pending).toHaveText('5 waiting (3 from this tab)');

  await goOnline(context);
  await replayNow(tabA);
  const expected = [
    { name: 'Milk', done: true },
    { name: 'Free-range eggs', done: false },
    { name: 'Apples', done: false },
    { name: 'Tea', done: false },
    { name: 'Jam', done: false },
  ];
  await expect.poll(() => itemsOnServer(demo, listId)).toEqual(expected);
  // Each tab reloads once the outbox drains, and shows the other's edits too.
  await expect.poll(() => itemsOnScreen(tabA)).toEqual(expected);
  await expect.poll(() => itemsOnScreen(tabB)).toEqual(expected);
  expect(demo.processed).toHaveLength(5);
  expect(new Set(demo.processed.map(({ key }) => key)).size).toBe(5);
});

test('the item name being typed stays under the person’s hands while the list is drawn again (its 5-second refresh, a write kept offline)', async ({ context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId, id } = seeded(demo);
  const reload = () => page.evaluate(() => (window as unknown as { groceries: { reload(): Promise<void> } }).groceries.reload());
  const input = row(page, id('Eggs')).getByLabel('Item name');
  await input.click();
  await reload(); // before the first key
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('Free-range ');
  await reload(); // halfway through
  await expect(input).toBeFocused();
  await page.keyboard.type('eggs');
  await page.keyboard.press('Enter');
  await expect(statusOf(page).pending).toHaveText('All changes saved');
  await reload();
  await expect(input).toHaveValue('Free-range eggs');
  // One rename, with the whole name: nothing committed halfway.
  expect(demo.processed.map(({ method, status }) => `${method} ${status}`)).toEqual(['PATCH 200']);
  expect(itemsOnServer(demo, listId).map(({ name }) => name)).toContain('Free-range eggs');
});

test('with responses lost after commit, nothing is duplicated', async ({ context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId } = seeded(demo);
  await page.getByLabel('Lose responses after commit').check();
  await expect.poll(() => demo.chaos.settings.loseResponses).toBe(true);

  for (const name of ['Coffee', 'Tea', 'Jam']) await addItem(page, name);
  // "All changes saved" may also show between two of the writes: wait for the third.
  await expect.poll(() => demo.processed.length).toBe(3);
  await expect(statusOf(page).pending).toHaveText('All changes saved');

  // Every first answer was lost, so every write was sent again and answered from the store.
  await expect(page.locator('#log .retry-scheduled')).not.toHaveCount(0);
  expect(demo.processed.map(({ method, status }) => `${method} ${status}`)).toEqual(['POST 201', 'POST 201', 'POST 201']);
  const names = itemsOnServer(demo, listId).map(({ name }) => name);
  expect(names).toEqual(['Milk', 'Eggs', 'Bread', 'Apples', 'Coffee', 'Tea', 'Jam']);
  await expect.poll(() => itemsOnScreen(page).then((items) => items.map(({ name }) => name))).toEqual(names);
});
