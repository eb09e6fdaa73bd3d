import { expect, openApp, test, write } from '../support/fixtures.js';

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
  await expect.poll(async () => (await snapshot(page)).lanes.map((lane) => [lane.state, lane.waiting])).toEqual([['needs-auth', 4]]);
  expect((await snapshot(page)).entries[0]).toMatchObject({ state: 'needs-auth', lastStatus: 200 });
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1]);

  // The person signs in again, and a page of the app opens: no app code asks for anything.
  server.endedSessions.delete('ana');
  const other = await context.newPage();
  await other.goto(`${server.url}/?sw=none`); // a page with no page helper: the navigation alone
  await server.waitForCommits(5);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2, 3, 4, 5]);
  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(5);
  await expect.poll(async () => (await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
});
