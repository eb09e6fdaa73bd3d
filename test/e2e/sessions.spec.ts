import { expect, logged, openApp, statusSince, test, write } from '../support/fixtures.js';

const snapshot = (page: import('@playwright/test').Page) => page.evaluate(() => window.outbox.snapshot());

test('a cookie session that ends while writes wait: each is redirected to the sign-in page and kept, never settled there; once the person signs in again and a page opens, each is committed once, in order', async ({ context, server }) => {
  await context.addCookies([{ name: 'session', value: 'ana', url: server.url }]);
  // Retries a day away: only the page opening sends the held writes again.
  const page = await openApp(context, server, { retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });
  expect((await write(page, 'POST', '/api/items', { i: 1 })).status).toBe(201);

  // The session ends on the server. A write made online meets the sign-in page: its page
  // is told it is kept (202), not given the sign-in page's 200 as if it were saved.
  server.endedSessions.add('ana');
  const online = await write(page, 'POST', '/api/items', { i: 2 });
  expect(online.status).toBe(202);
  await server.stop();
  for (const i of [3, 4, 5]) expect((await write(page, 'POST', '/api/items', { i })).status).toBe(202);
  await server.listen();
  await page.evaluate(() => window.outbox.replay());
  await statusSince(page, 0, 'needs-auth');
  expect((await snapshot(page)).lanes.map((lane) => [lane.state, lane.waiting])).toEqual([['needs-auth', 4]]);
  expect((await snapshot(page)).entries[0]).toMatchObject({ state: 'needs-auth', lastStatus: 200 });
  // The status element says what they wait for.
  await page.evaluate(async (helper) => {
    const { defineOutboxStatus } = (await import(helper)) as typeof import('../../client/index.js');
    defineOutboxStatus();
    document.body.append(document.createElement('outbox-status'));
  }, '/dist/client/index.js');
  await expect(page.locator('outbox-status .activity')).toHaveText('Sign in to send 4 changes');
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 300 });
    await page.locator('outbox-status').screenshot({ path: test.info().outputPath(`session-ended-${width}.png`) });
  }
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1]);

  // The person signs in again, and a page of the app opens: no app code asks for anything.
  server.endedSessions.delete('ana');
  const signedIn = await logged(page);
  const other = await context.newPage();
  await other.goto(`${server.url}/?sw=none`); // a page with no page helper: the navigation alone
  await server.waitForCommits(5);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3, 4, 5]);
  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(5);
  await statusSince(page, signedIn, 'drained');
  expect((await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});

test('a form post whose session ended takes the person to the sign-in page and is kept; once they sign in, it is committed once; a post/redirect/get settles as before', async ({ context, server }) => {
  await context.addCookies([{ name: 'session', value: 'ana', url: server.url }]);
  // Every same-origin post (the default include), the sign-in form's too.
  const app = await openApp(context, server, { forms: true, retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });
  const page = await context.newPage();
  const save = async (note: string) => {
    await page.getByLabel('Note').fill(note);
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Save' }).click()]);
  };
  await page.goto(`${server.url}/notes.html`);

  // Post/redirect/get: the person lands on the page the server sent them to.
  await save('one');
  await expect(page.locator('#sent')).toHaveText('Saved (1)');
  expect(new URL(page.url()).pathname).toBe('/notes.html');

  // The session ends: the next post meets the sign-in page. The person is shown it, and the note is kept.
  server.endedSessions.add('ana');
  await save('two');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect(server.commits.map((commit) => new URLSearchParams(commit.body).get('note'))).toEqual(['one']);
  // A poll, not a message: the sign-in page the person is shown opens through the worker,
  // which sends the kept post again (and meets the ended session again), so the lane's
  // state goes back and forth between needs-auth and sending until they sign in.
  await expect.poll(async () => (await snapshot(app)).lanes.map((lane) => [lane.state, lane.waiting])).toEqual([['needs-auth', 1]]);

  // They sign in; the app takes them back to the notes, and the kept note goes.
  const signedIn = await logged(app);
  await page.getByLabel('User').fill('ana');
  await Promise.all([page.waitForURL(/\/notes\.html$/), page.getByRole('button', { name: 'Sign in' }).click()]);
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => new URLSearchParams(commit.body).get('note'))).toEqual(['one', 'two']);
  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(2);
  // The sign-in itself never went through the outbox.
  expect(await app.evaluate(() => window.statusLog.filter((message) => 'entry' in message && message.entry.url.includes('/login')))).toEqual([]);
  expect(await app.evaluate(() => window.statusLog.filter((message) => 'entry' in message).length)).toBeGreaterThan(0);
  await statusSince(app, signedIn, 'drained');
  expect((await snapshot(app)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});
