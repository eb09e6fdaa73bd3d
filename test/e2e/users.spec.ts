import type { Page } from '@playwright/test';
import { everythingStored, expect, logged, openApp, statusSince, test, write } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

/** A sign-in as the app does it: the session cookie the server reads, then the outbox told who it is. */
async function signIn(page: Page, user: string): Promise<void> {
  await page.evaluate((name) => {
    document.cookie = `session=${name}; path=/`;
    return window.outbox.signIn(name);
  }, user);
}

test('a shared device: none of A’s writes is committed under B; A signs in again and they are committed once, in order; purge erases; flush sends before sign-out completes', async ({ context, server }) => {
  server.checkUsers = true;
  // Retries a day away: only the steps below send anything.
  const page = await openApp(context, server, { include: ['/api/'], retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 });

  // Cashier A makes two sales offline and signs out, keeping them.
  await signIn(page, 'ann');
  await context.setOffline(true);
  for (const i of [1, 2]) expect((await write(page, 'POST', '/api/sales', { by: 'ann', i })).status).toBe(202);
  expect(await page.evaluate(() => window.outbox.signOut())).toEqual({ sent: 0, kept: 2, purged: 0 });

  // Cashier B signs in; the network returns.
  await signIn(page, 'bo');
  expect((await page.evaluate(() => window.outbox.snapshot())).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
  await goOnline(context);
  expect((await write(page, 'POST', '/api/sales', { by: 'bo', i: 1 })).status).toBe(201);
  await page.evaluate(() => window.outbox.replay());
  expect(server.commits.map((commit) => [commit.user, JSON.parse(commit.body).by])).toEqual([['bo', 'bo']]);
  expect(server.arrivals.filter((arrival) => arrival.body.includes('"ann"'))).toEqual([]);

  // A is back: hers are committed under her session, once each, in order.
  await page.evaluate(() => window.outbox.signOut());
  await signIn(page, 'ann');
  await server.waitForCommits(3);
  expect(server.commits.slice(1).map((commit) => [commit.user, JSON.parse(commit.body).i])).toEqual([['ann', 1], ['ann', 2]]);
  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(3);

  // Purge really deletes: nothing of the write is left in the origin's IndexedDB.
  await context.setOffline(true);
  await write(page, 'POST', '/api/sales', { by: 'ann', note: 'purge-marker-91d3' });
  expect(await everythingStored(page)).toContain('purge-marker-91d3');
  expect(await page.evaluate(() => window.outbox.signOut({ pending: 'purge' }))).toEqual({ sent: 0, kept: 0, purged: 1 });
  expect(await everythingStored(page)).not.toContain('purge-marker-91d3');

  // Flush: signing out sends A's waiting write first. It waits for the server (down, then
  // back), and its retry is a day away: only the flush sends it.
  await goOnline(context);
  await signIn(page, 'ann');
  await server.stop();
  expect((await write(page, 'POST', '/api/sales', { by: 'ann', i: 3 })).status).toBe(202);
  await server.listen();
  const flushed = await page.evaluate(() => window.outbox.signOut({ pending: 'flush', timeoutMs: 10_000 }));
  // Sent by the time sign-out resolves: by the flush, or by Chromium's sync event if the
  // server came back under it (the unit test counts `sent` exactly).
  expect(flushed).toMatchObject({ kept: 0, purged: 0 });
  expect(server.commits.map((commit) => [commit.user, JSON.parse(commit.body).i])).toEqual([['bo', 1], ['ann', 1], ['ann', 2], ['ann', 3]]);
});

test('a write whose Outbox-User is not the session’s is refused by checkOutboxUser and held for its owner, not dead-lettered', async ({ context, server }) => {
  server.checkUsers = true;
  const page = await openApp(context, server, { include: ['/api/'] });
  await signIn(page, 'ann');
  await context.setOffline(true);
  await write(page, 'POST', '/api/sales', { i: 1 });
  // The session changed under the page, without signIn: the server sees bo's cookie.
  await page.evaluate(() => (document.cookie = 'session=bo; path=/'));
  const offline = await logged(page);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await statusSince(page, offline, 'needs-auth');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.lanes.map((lane) => lane.state)))).toEqual(['needs-auth']);
  expect(server.commits).toEqual([]);
  expect((await page.evaluate(() => window.outbox.snapshot())).counts.deadLetters).toBe(0);
  // Her session back: the write goes once credentials are said to have changed.
  await page.evaluate(() => (document.cookie = 'session=ann; path=/'));
  await page.evaluate(() => window.outbox.credentialsChanged());
  await server.waitForCommits(1);
  expect(server.commits.map((commit) => commit.user)).toEqual(['ann']);
});
