import { expect, openApp, test, write } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

test('the page helper hears each mapping: onIdentified gives a create’s provisional identity and the real one, once it is delivered', async ({ context, server }) => {
  // The test API answers a create with `committed`, its count of commits: the id here.
  const page = await openApp(context, server, { collections: { paths: ['/api/items'], idMember: 'committed' } });
  await page.evaluate(() => {
    (window as unknown as { heard: unknown[] }).heard = [];
    window.outbox.onIdentified((identity) => (window as unknown as { heard: unknown[] }).heard.push(identity));
  });
  await context.setOffline(true);
  const created = await write(page, 'POST', '/api/items', { i: 1 });
  expect(created.status).toBe(201);
  const provisional = (JSON.parse(created.text) as { committed: string }).committed;
  await goOnline(context);
  await expect.poll(() => page.evaluate(() => (window as unknown as { heard: unknown[] }).heard)).toEqual([{ provisional: { id: provisional, url: `${server.url}/api/items/${provisional}` }, real: { id: 1, url: `${server.url}/api/items/1` } }]);
});
