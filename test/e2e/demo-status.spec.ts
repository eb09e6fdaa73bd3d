import type { Browser, Page } from '@playwright/test';
import type { DemoServer } from '../../demo/server/demo-server.js';
import { addItem, expect, itemsOnScreen, itemsOnServer, openDemo, renameItem, replayNow, screenshot, seeded, statusOf, test } from '../support/demo.js';
import { goOnline } from '../support/online.js';

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

/** A renames an item offline while B, in another browser profile and online, renames it too; A comes back online. */
async function renameClash(browser: Browser, page: Page, demo: DemoServer, itemId: string, mine: string, theirs: string): Promise<void> {
  await page.context().setOffline(true);
  await renameItem(page, itemId, mine);
  await expect(statusOf(page).pending).toHaveText('1 waiting');
  const otherProfile = await browser.newContext();
  const other = await openDemo(otherProfile, demo);
  await renameItem(other, itemId, theirs);
  // On the server before the other profile closes: "All changes saved" is also what its
  // status says before its write has left, and a profile closed then never sends it.
  await expect.poll(() => itemsOnServer(demo, seeded(demo).listId).some(({ name }) => name === theirs)).toBe(true);
  await expect(statusOf(other).pending).toHaveText('All changes saved');
  await otherProfile.close();
  await goOnline(page.context());
  await replayNow(page);
}

test('two people rename one item, one offline: the offline one sees both names and keeps theirs or keeps mine, sent once against the current version', async ({ browser, context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId, id } = seeded(demo);
  const milk = id('Milk');
  const status = statusOf(page);

  // The offline rename said which version it was made to (If-Match): refused, not written over.
  await renameClash(browser, page, demo, milk, 'Oat milk', 'Soy milk');
  await expect(status.pending).toHaveText('1 in conflict');
  await expect(status.element).toHaveAttribute('conflicts', '1');
  const conflict = status.conflicts.first();
  const short = (uuid: string) => `${uuid.slice(0, 8)}…`;
  await expect(conflict).toContainText(`PATCH /api/lists/${short(listId)}/items/${short(milk)} — Changed by someone else`);
  await expect(conflict.locator('.sides')).toHaveText('name, yours“Oat milk”name, theirs“Soy milk”');
  await expect(page.locator('#merge')).toContainText('Yours: “Oat milk”; theirs: “Soy milk”');
  await expect.poll(() => itemsOnScreen(page).then((items) => items[0]?.name)).toBe('Soy milk');
  await screenshot(page, 'demo-conflict');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'demo-conflict-390');
  expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling at 390 px').toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 720 });

  // Keep mine: sent again once, with a new key and If-Match on B's version, and applied.
  await conflict.getByRole('button', { name: 'Keep mine' }).click();
  await expect(status.pending).toHaveText('All changes saved');
  await expect.poll(() => itemsOnServer(demo, listId)[0]?.name).toBe('Oat milk');
  const [, refused, kept] = demo.processed;
  expect(demo.processed.map(({ status }) => status)).toEqual([200, 412, 200]);
  expect(kept!.ifMatch).toBeDefined();
  expect(kept!.ifMatch).not.toBe(refused!.ifMatch);
  expect(kept!.key).not.toBe(refused!.key);
  await expect(page.locator('#merge')).toBeHidden();

  // Keep theirs: nothing more is sent; B's name stands.
  await renameClash(browser, page, demo, milk, 'Almond milk', 'Rice milk');
  await expect(status.pending).toHaveText('1 in conflict');
  await status.conflicts.first().getByRole('button', { name: 'Keep theirs' }).click();
  await expect(status.pending).toHaveText('All changes saved');
  await expect(status.conflicts).toHaveCount(0);
  expect(demo.processed.map(({ status }) => status)).toEqual([200, 412, 200, 200, 412]);
  expect(itemsOnServer(demo, listId)[0]?.name).toBe('Rice milk');
  await expect.poll(() => itemsOnScreen(page).then((items) => items[0]?.name)).toBe('Rice milk');
});

test('the demo\'s merge form: the person writes the name to keep, sent in the rename\'s place', async ({ browser, context, demo }) => {
  const page = await openDemo(context, demo);
  const { listId, id } = seeded(demo);
  await renameClash(browser, page, demo, id('Milk'), 'Oat milk', 'Soy milk');
  const form = page.locator('#merge');
  await expect(form.getByLabel('Name to keep')).toHaveValue('Oat milk');
  await form.getByLabel('Name to keep').fill('Oat or soy milk');
  await form.getByRole('button', { name: 'Save this name' }).click();
  await expect(statusOf(page).pending).toHaveText('All changes saved');
  await expect.poll(() => itemsOnServer(demo, listId)[0]?.name).toBe('Oat or soy milk');
  expect(demo.processed.map(({ status }) => status)).toEqual([200, 412, 200]);
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

test('a 409 "still in flight" from sw-outbox/server is asked again until the slow first attempt answers; a 409 conflict is a conflict', async ({ context, demo }) => {
  test.setTimeout(60_000);
  const page = await openDemo(context, demo);
  const { listId } = seeded(demo);
  const status = statusOf(page);
  const log: { type: string; error?: string; status?: number }[] = [];
  await page.exposeFunction('record', (message: { type: string; error?: string; status?: number }) => log.push(message));
  await page.evaluate(() => document.addEventListener('outbox-change', (event) => (window as unknown as { record: (m: unknown) => void }).record((event as CustomEvent).detail)));

  // Each write takes longer than the outbox's 10 s attempt timeout: it gives up on the
  // attempt, asks again (within 0.5 to 1 s), and meanwhile sw-outbox/server answers that the
  // key is in flight. 4 s past the timeout, so that a loaded machine's late retry still
  // comes while the first attempt is processed.
  demo.chaos.update({ slowMs: 14_000 });
  await addItem(page, 'Coffee');
  await expect.poll(() => log.some((message) => message.type === 'retry-scheduled' && message.error === 'HTTP 409: an earlier attempt is still being processed'), { timeout: 30_000 }).toBe(true);
  await expect(status.pending).toHaveText('All changes saved', { timeout: 30_000 });
  demo.chaos.reset();
  expect(demo.processed.filter(({ method }) => method === 'POST').map(({ status }) => status)).toEqual([201]);
  expect(itemsOnServer(demo, listId).filter(({ name }) => name === 'Coffee')).toHaveLength(1);
  expect(log.map(({ type }) => type)).not.toContain('conflict');

  // An item added again under an id the server has: the API's own 409, a conflict.
  await context.setOffline(true);
  await page.evaluate((listPath) => fetch(`${listPath}/items`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: document.querySelector('#items li')!.getAttribute('data-id'), name: 'Again' }) }), `/api/lists/${listId}`);
  await goOnline(context);
  await replayNow(page);
  await expect(status.pending).toHaveText('1 in conflict');
  await expect(status.conflicts.first()).toContainText('POST');
  expect(log.filter(({ type }) => type === 'conflict')).toHaveLength(1);
  const [conflict] = await page.evaluate(() => window.outbox.snapshot().then((snapshot) => snapshot.conflicts));
  expect(conflict?.conflict?.status).toBe(409);
});
