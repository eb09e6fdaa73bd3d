/**
 * Writes made at once share transactions (decision 0030): the end state on the server is
 * what the person did, each write once, each lane in the order its writes were made.
 */
import type { Page } from '@playwright/test';
import { expect, openApp, test } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

/** Makes writes `from`..`to - 1` at once, alternating two lanes; resolves with their statuses. */
const madeAtOnce = (page: Page, from: number, to: number) =>
  page.evaluate(
    ([first, end]) => Promise.all(Array.from({ length: end - first }, (_, i) => window.write('POST', '/api/items', { n: first + i }, { 'Outbox-Lane': `lane-${(first + i) % 2}` }))).then((answers) => answers.map((answer) => answer.status)),
    [from, to] as const,
  );

test('ten writes made at once offline, then six more at once as the drain begins: on the server each once, each lane in the order made', async ({ context, server }) => {
  const page = await openApp(context, server);
  await context.setOffline(true);
  expect(await madeAtOnce(page, 0, 10)).toEqual(Array(10).fill(202));
  await goOnline(context);
  const drained = page.evaluate(() => window.outbox.replay());
  // Sent at once (201) or kept behind their lane's waiting writes (202): each is what its lane allows.
  for (const status of await madeAtOnce(page, 10, 16)) expect([201, 202]).toContain(status);
  await drained;
  await page.evaluate(() => window.outbox.replay());
  await server.waitForCommits(16);
  const made = server.commits.map((commit) => (JSON.parse(commit.body) as { n: number }).n);
  expect(made.filter((n) => n % 2 === 0)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
  expect(made.filter((n) => n % 2 === 1)).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(16);
  expect(server.arrivals).toHaveLength(16);
});
