import { addItem, expect, itemsOnScreen, itemsOnServer, openDemo, renameItem, replayNow, screenshot, seeded, statusOf, test } from '../support/demo.js';

test('<outbox-status> shows writes waiting, the next retry and the last error, then that all is saved', async ({ context, demo }) => {
  const page = await openDemo(context, demo);
  const status = statusOf(page);
  const retryAfter = page.getByLabel('503 with Retry-After');
  await retryAfter.fill('3');
  await retryAfter.press('Tab');
  await expect.poll(() => demo.chaos.settings.unavailableFor).toBe(3);

  await addItem(page, 'Coffee');
  await expect(status.pending).toHaveText('1 waiting');
  await expect(status.element).toHaveAttribute('pending', '1');
  await expect(status.error).toHaveText('Last error: HTTP 503');
  // The server asked for the wait (Retry-After): Send now cannot cut it short, and says so.
  await expect(status.activity).toHaveText(/^The server asked to wait: retry in [1-3] s$/);
  await expect(status.sendNow).toBeDisabled();
  await expect(status.sendNow).toHaveAttribute('title', 'The server asked to wait before the next try.');

  // The server recovers; the outbox retries when Retry-After said, with no help.
  await retryAfter.fill('0');
  await retryAfter.press('Tab');
  await expect(status.pending).toHaveText('All changes saved');
  await expect(status.element).toHaveAttribute('pending', '0');
  await expect(status.error).toBeHidden();
  await expect(status.activity).toHaveText('');
  await expect(status.sendNow).toBeHidden();
  expect(demo.processed).toHaveLength(1);
});

test('a rename that conflicts with another profile\'s becomes a dead letter that <outbox-status> shows and can retry and discard', async ({ browser, context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId, id } = seeded(demo);
  const milk = id('Milk');
  const status = statusOf(page);

  await context.setOffline(true);
  await renameItem(page, milk, 'Oat milk');
  await expect(status.pending).toHaveText('1 waiting');
  // Meanwhile someone else, in another browser profile and online, renames it too. The
  // offline rename says which version it was made to (If-Match), so it will be refused
  // rather than written over theirs.
  const otherProfile = await browser.newContext();
  const other = await openDemo(otherProfile, demo);
  await renameItem(other, milk, 'Soy milk');
  await expect(statusOf(other).pending).toHaveText('All changes saved');
  await expect.poll(() => itemsOnServer(demo, listId)[0]?.name).toBe('Soy milk');
  await otherProfile.close();

  await context.setOffline(false);
  await replayNow(page);

  await expect(status.pending).toHaveText('1 refused');
  await expect(status.element).toHaveAttribute('dead-letters', '1');
  await expect(status.deadLetters).toHaveCount(1);
  // What the server said (its problem+json), a code to branch on, and a short URL.
  const short = (uuid: string) => `${uuid.slice(0, 8)}…`;
  await expect(status.deadLetters.first()).toContainText(`PATCH /api/lists/${short(listId)}/items/${short(milk)} — Changed by someone else conflict`);
  await expect(status.deadLetters.first().locator('.why')).toContainText('Reload it and make the change again.');
  // The outbox has drained, so the page reloads from the server: the other rename stands.
  await expect.poll(() => itemsOnScreen(page).then((items) => items[0]?.name)).toBe('Soy milk');
  await screenshot(page, 'demo-dead-letter');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'demo-dead-letter-390');
  expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling at 390 px').toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 720 });

  // Retry sends it again, with a new key (the server keeps its 412 for the old one): still a conflict.
  await status.deadLetters.first().getByRole('button', { name: 'Retry' }).click();
  await expect.poll(() => demo.processed.map(({ status }) => status)).toEqual([200, 412, 412]);
  expect(new Set(demo.processed.map(({ key }) => key)).size).toBe(3);
  await expect(status.deadLetters).toHaveCount(1);

  await status.deadLetters.first().getByRole('button', { name: 'Discard' }).click();
  await expect(status.deadLetters).toHaveCount(0);
  await expect(status.pending).toHaveText('All changes saved');
  expect(itemsOnServer(demo, listId)[0]).toEqual({ name: 'Soy milk', done: false });
});

test('DevTools: the outbox is readable in the IndexedDB panel, and outbox.table() prints it', async ({ context, demo }) => {
  const page = await openDemo(context, demo);
  await page.getByLabel('API down').check();
  await expect.poll(() => demo.chaos.settings.down).toBe(true);
  await addItem(page, 'Coffee');
  await expect(statusOf(page).error).toContainText('network error');

  // What Application › IndexedDB › sw-outbox › entries shows, through the protocol DevTools uses.
  // The write is retried every second or so; between attempts it is pending.
  const cdp = await context.newCDPSession(page);
  await cdp.send('IndexedDB.enable');
  const shown = async () => {
    const { objectStoreDataEntries } = await cdp.send('IndexedDB.requestData', {
      storageKey: `${demo.url}/`,
      databaseName: 'sw-outbox',
      objectStoreName: 'entries',
      skipCount: 0,
      pageSize: 10,
    });
    const [record] = objectStoreDataEntries;
    const { result } = await cdp.send('Runtime.getProperties', { objectId: record!.value.objectId!, ownProperties: true });
    return Object.fromEntries(result.map(({ name, value }) => [name, value?.value ?? value?.description]));
  };
  await expect
    .poll(shown)
    .toMatchObject({
      method: 'POST',
      url: expect.stringMatching(/\/api\/lists\/.+\/items$/),
      state: 'pending',
      attempts: expect.any(Number),
      nextAttemptAt: expect.any(Number),
      lastError: expect.stringMatching(/^network error/),
    });

  const printed = page.waitForEvent('console', (message) => message.type() === 'table');
  const rows = await page.evaluate(() => window.outbox.table());
  await printed;
  expect(rows).toEqual([expect.objectContaining({ method: 'POST', state: expect.stringMatching(/^(pending|sending)$/) })]);
});
