import { everythingStored, expect, openApp, statusTypes, test, write } from '../support/fixtures.js';
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
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await expect.poll(() => page.evaluate(() => window.outbox.snapshot().then((s) => s.lanes.map((lane) => [lane.state, lane.waiting])))).toEqual([['needs-auth', 2]]);
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
  await page.evaluate((token) => {
    window.outbox.onCredentials(() => ({ Authorization: `Bearer ${token}` }));
    return window.outbox.credentialsChanged();
  }, FRESH);
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => JSON.parse(commit.body).i)).toEqual([1, 2]);
  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(2);
  await expect.poll(() => page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
  await expect(page.locator('outbox-status .pending')).toHaveText('All changes saved');
  const stored = await everythingStored(page);
  expect(stored).not.toContain(OLD);
  expect(stored).not.toContain(FRESH);
});
