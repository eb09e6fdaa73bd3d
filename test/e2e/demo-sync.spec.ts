import { addItem, replayNow, expect, itemsOnScreen, itemsOnServer, openDemo, renameItem, row, screenshot, seeded, statusOf, test } from '../support/demo.js';

// Playwright lifts its offline emulation from the page before the worker, so the replay
// the page's `online` event asks for can fail and wait out a backoff. After reconnecting,
// the specs ask for a replay themselves, as the status element's Send now button does.

test('the seed scenario: a list edited offline reaches the server after reconnecting, each write applied once, and the server list equals the screen', async ({ context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId, id } = seeded(demo);
  const status = statusOf(page);
  await expect(status.pending).toHaveText('All changes saved');
  await screenshot(page, 'demo-online');

  await context.setOffline(true);
  await expect(status.network).toHaveText('Offline');
  await addItem(page, 'Coffee');
  await row(page, id('Milk')).getByRole('checkbox').check();
  await renameItem(page, id('Bread'), 'Sourdough');
  await row(page, id('Apples')).getByRole('button', { name: 'Delete Apples' }).click();
  await row(page, id('Eggs')).getByRole('button', { name: 'Move Eggs up' }).click();

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

  await context.setOffline(false);
  await expect(status.network).toHaveText('Online');
  await replayNow(page);
  await expect(status.pending).toHaveText('All changes saved');

  expect(itemsOnServer(demo, listId)).toEqual(onScreen);
  expect(await itemsOnScreen(page)).toEqual(onScreen);
  // Each write applied once, in the order it was made.
  expect(demo.processed.map(({ method, status }) => `${method} ${status}`)).toEqual(['POST 201', 'PATCH 200', 'PATCH 200', 'DELETE 204', 'POST 200']);
  expect(new Set(demo.processed.map(({ key }) => key)).size).toBe(5);
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
  await expect(statusOf(tabA).pending).toHaveText('4 waiting');

  await context.setOffline(false);
  await replayNow(tabA);
  const expected = [
    { name: 'Milk', done: true },
    { name: 'Free-range eggs', done: false },
    { name: 'Apples', done: false },
    { name: 'Tea', done: false },
  ];
  await expect.poll(() => itemsOnServer(demo, listId)).toEqual(expected);
  // Each tab reloads once the outbox drains, and shows the other's edits too.
  await expect.poll(() => itemsOnScreen(tabA)).toEqual(expected);
  await expect.poll(() => itemsOnScreen(tabB)).toEqual(expected);
  expect(demo.processed).toHaveLength(4);
  expect(new Set(demo.processed.map(({ key }) => key)).size).toBe(4);
});

test('with responses lost after commit, nothing is duplicated', async ({ context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId } = seeded(demo);
  await page.getByLabel('Lose responses after commit').check();
  await expect.poll(() => demo.chaos.settings.loseResponses).toBe(true);

  for (const name of ['Coffee', 'Tea', 'Jam']) await addItem(page, name);
  await expect(statusOf(page).pending).toHaveText('All changes saved');

  // Every first answer was lost, so every write was sent again and answered from the store.
  await expect(page.locator('#log .retry-scheduled')).not.toHaveCount(0);
  expect(demo.processed.map(({ method, status }) => `${method} ${status}`)).toEqual(['POST 201', 'POST 201', 'POST 201']);
  const names = itemsOnServer(demo, listId).map(({ name }) => name);
  expect(names).toEqual(['Milk', 'Eggs', 'Bread', 'Apples', 'Coffee', 'Tea', 'Jam']);
  await expect.poll(() => itemsOnScreen(page).then((items) => items.map(({ name }) => name))).toEqual(names);
});
