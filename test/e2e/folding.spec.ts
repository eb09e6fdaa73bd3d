import type { QueuedBody, StatusMessage } from '../../sw/protocol.js';
import { expect, logged, openApp, statusSince, test, write } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

const rename = (name: string) => ({ name });
const MERGE_PATCH = { 'Content-Type': 'application/merge-patch+json' };

test('with fold on, 100 renames of one item made offline send one write, with the last name (behind a write to another URL); each replaced write is reported as folded into the next', async ({ context, server }) => {
  const page = await openApp(context, server, { fold: ['/api/items/'] });
  await context.setOffline(true);
  // A write ahead of them in the lane: whether or not the worker has seen the network go
  // (and tried it), the renames behind it are never attempted before they fold.
  await write(page, 'POST', '/api/items', { id: 7 });
  const ids: number[] = [];
  for (let i = 1; i <= 100; i++) ids.push((JSON.parse((await write(page, 'PATCH', '/api/items/7', rename(`name ${i}`), MERGE_PATCH)).text) as QueuedBody).outbox.id);
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts.pending))).toBe(2);
  const folded = await page.evaluate(() => window.statusLog.filter((message): message is Extract<StatusMessage, { type: 'folded' }> => message.type === 'folded').map(({ entry, into }) => [entry.id, into]));
  expect(folded).toEqual(ids.slice(0, -1).map((id, i) => [id, ids[i + 1]]));

  const offline = await logged(page);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => `${commit.method} ${commit.path}`)).toEqual(['POST /api/items', 'PATCH /api/items/7']);
  expect(server.arrivals.filter((arrival) => arrival.method === 'PATCH')).toHaveLength(1);
  expect(JSON.parse(server.commits[1]!.body)).toEqual({ name: 'name 100' });
  await statusSince(page, offline, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts.pending))).toBe(0);
});

test('with fold on, a write that had an attempt is never folded: both are sent, in order', async ({ context, server }) => {
  const page = await openApp(context, server, { fold: ['/api/items/'] });
  // The first has had an attempt (answered 503, to be retried in 2 s): a server may have
  // applied part of it, so nothing may take its place.
  server.fail({ kind: 'status', status: 503, retryAfter: '2' });
  expect((await write(page, 'PATCH', '/api/items/7', rename('first'), MERGE_PATCH)).status).toBe(202);
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.entries.map(({ attempts, state }) => ({ attempts, state }))))).toEqual([{ attempts: 1, state: 'pending' }]);
  expect((await write(page, 'PATCH', '/api/items/7', rename('second'), MERGE_PATCH)).status).toBe(202);
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts.pending))).toBe(2);
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => JSON.parse(commit.body).name)).toEqual(['first', 'second']);
});

test('without fold, the same renames are each sent', async ({ context, server }) => {
  const page = await openApp(context, server);
  await context.setOffline(true);
  for (const name of ['a', 'b', 'c']) await write(page, 'PATCH', '/api/items/7', rename(name), MERGE_PATCH);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await server.waitForCommits(3);
  expect(server.commits.map((commit) => JSON.parse(commit.body).name)).toEqual(['a', 'b', 'c']);
});
