import { expect, itemsOnScreen, itemsOnServer, openDemo, renameItem, replayNow, row, seeded, statusOf, test } from '../support/demo.js';
import { goOnline } from '../support/online.js';

test('A renames an item offline while B ticks it online: once A reconnects both changes are on the server, with no dead letter and nothing to decide', async ({ browser, context, demo }) => {
  const { listId, id } = seeded(demo);
  const tea = id('Milk');
  const a = await openDemo(context, demo);
  const otherPerson = await browser.newContext();
  const b = await openDemo(otherPerson, demo);

  await context.setOffline(true);
  await renameItem(a, tea, 'Oat milk');
  await expect(statusOf(a).pending).toHaveText(/1 waiting/);
  // B, online, ticks the same item: a new version on the server, which A's rename (made,
  // with If-Match, to the version before) does not know of.
  await row(b, tea).getByRole('checkbox').check();
  await expect.poll(() => itemsOnServer(demo, listId)[0]).toEqual({ name: 'Milk', done: true });

  await goOnline(context);
  await replayNow(a);
  await expect.poll(() => itemsOnServer(demo, listId)[0]).toEqual({ name: 'Oat milk', done: true });
  expect(demo.processed.map(({ method, status }) => `${method} ${status}`)).toEqual(['PATCH 200', 'PATCH 200']);
  await expect(statusOf(a).deadLetters).toHaveCount(0);
  // A's page reloads once its outbox drains, and shows B's tick beside its own rename.
  await expect.poll(() => itemsOnScreen(a).then((items) => items[0])).toEqual({ name: 'Oat milk', done: true });
  await otherPerson.close();
});

test('ticking one item on and off five times offline sends one write, with the last state: the demo folds its PATCHes', async ({ context, demo }) => {
  const { listId, id } = seeded(demo);
  const page = await openDemo(context, demo);
  await context.setOffline(true);
  // An edit of another item first: whether or not the worker has seen the network go (and
  // tried that edit), the ticks behind it in the lane are never attempted before they fold.
  await row(page, id('Milk')).getByRole('checkbox').check();
  const box = row(page, id('Eggs')).getByRole('checkbox');
  for (let i = 0; i < 5; i++) await box.click();
  await expect(statusOf(page).pending).toHaveText(/^2 waiting/);
  await goOnline(context);
  await replayNow(page);
  await expect.poll(() => itemsOnServer(demo, listId).slice(0, 2)).toEqual([{ name: 'Milk', done: true }, { name: 'Eggs', done: true }]);
  expect(demo.processed.map(({ method, path }) => `${method} ${path.split('/').pop() === id('Eggs') ? 'Eggs' : 'Milk'}`)).toEqual(['PATCH Milk', 'PATCH Eggs']);
});
