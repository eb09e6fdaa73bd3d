import { everythingStored, expect, logged, openApp, statusSince, statusTypes, test, write } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

test('a token that expires while offline: the replay gets 401, the writes wait as needs-auth, the page gives a fresh token, each is committed once, in order; no token is ever in IndexedDB', async ({ context, server }) => {
  const OLD = 'old-token-7c1e9a';
  const FRESH = 'fresh-token-52bd0f';
  server.token = OLD;
  const page = await openApp(context, server, { include: ['/api/'] });
  await page.evaluate(async (helper) => {
    const { defineOutboxStatus } = (await import(helper)) as typeof import('../../client/index.js');
    defineOutboxStatus();
    document.body.append(document.createElement('outbox-status'));
  }, '/dist/client/index.js');
  await context.setOffline(true);
  for (const i of [1, 2]) expect((await write(page, 'POST', '/api/items', { i }, { Authorization: `Bearer ${OLD}` })).status).toBe(202);
  expect(await everythingStored(page)).not.toContain(OLD);

  // The session expires meanwhile; back online, the first write meets 401 and its lane waits.
  server.token = FRESH;
  const offline = await logged(page);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await statusSince(page, offline, 'needs-auth');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.lanes.map((lane) => [lane.state, lane.waiting])))).toEqual([['needs-auth', 2]]);
  await expect(page.locator('outbox-status .activity')).toHaveText('Sign in to send 2 changes');
  await expect(page.locator('outbox-status')).toHaveAttribute('needs-auth', '');
  await expect(page.locator('outbox-status .pending')).toHaveText('2 waiting');
  await expect(page.locator('outbox-status').getByRole('button', { name: 'Send now' })).toBeDisabled();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 300 });
    await page.locator('outbox-status').screenshot({ path: test.info().outputPath(`needs-auth-${width}.png`) });
  }
  expect(await statusTypes(page)).toContain('needs-auth');
  expect(server.commits).toEqual([]);
  expect(server.arrivals.map((arrival) => arrival.headers.authorization)).toEqual([`Bearer ${OLD}`]);

  // The person signs in again: the page gives the worker the new token when it asks.
  const signedIn = await logged(page);
  await page.evaluate((token) => {
    window.outbox.onCredentials(() => ({ Authorization: `Bearer ${token}` }));
    return window.outbox.credentialsChanged();
  }, FRESH);
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2]);
  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(2);
  await statusSince(page, signedIn, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
  await expect(page.locator('outbox-status .pending')).toHaveText('All changes saved');
  const stored = await everythingStored(page);
  expect(stored).not.toContain(OLD);
  expect(stored).not.toContain(FRESH);
});

// The two ways an app wires credentials (README, "Credentials at send time"): its page helper
// gives its current token whenever the worker asks (onCredentials), and nothing more; or it
// also says so after each refresh (credentialsChanged()). Each meets both orders of events: the
// token refreshed while offline, before anything is sent; the server refusing the old token
// first, before the app refreshes it.
for (const wiring of ['callback', 'credentialsChanged'] as const) {
  for (const order of ['refreshed offline', '401 first'] as const) {
    test(`credentials wired by ${wiring === 'callback' ? 'a callback only' : 'credentialsChanged() after each refresh'}, token ${order}: each write committed once, in order, with the fresh token`, async ({ context, server }) => {
      const [OLD, FRESH] = ['old-token-31f0', 'fresh-token-8d2a'];
      server.token = OLD;
      const page = await context.newPage();
      await page.goto(`${server.url}/?${new URLSearchParams({ options: JSON.stringify({ include: ['/api/'] }), token: 'local' })}`);
      await page.evaluate((token) => window.outboxReady.then(() => localStorage.setItem('token', token)), OLD);
      const refresh = () =>
        page.evaluate(
          ([token, tell]) => {
            localStorage.setItem('token', token);
            return tell ? window.outbox.credentialsChanged() : undefined;
          },
          [FRESH, wiring === 'credentialsChanged'] as const,
        );

      await context.setOffline(true);
      for (const i of [1, 2]) expect((await write(page, 'POST', '/api/items', { i }, { Authorization: `Bearer ${OLD}` })).status).toBe(202);
      server.token = FRESH; // the old token expires meanwhile
      if (order === 'refreshed offline') await refresh();
      const offline = await logged(page);
      await goOnline(context);
      await page.evaluate(() => window.outbox.replay());
      if (order === '401 first') {
        await statusSince(page, offline, 'needs-auth');
        expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.lanes.map((lane) => lane.state)))).toEqual(['needs-auth']);
        expect(server.commits).toEqual([]);
        await refresh();
        // With a callback only, nothing tells the worker: the person opening the app again does.
        if (wiring === 'callback') await page.reload();
      }
      await server.waitForCommits(2);
      expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2]);
      // The old token is sent once at most: the copy the worker held, refused. The page giving
      // the same one again (before its refresh) is not worth a request.
      const refused = server.arrivals.filter((arrival) => arrival.headers.authorization === `Bearer ${OLD}`).length;
      expect(refused).toBe(wiring === 'credentialsChanged' && order === 'refreshed offline' ? 0 : 1);
      await page.evaluate(() => window.outboxReady);
      await expect.poll(() => page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
    });
  }
}
