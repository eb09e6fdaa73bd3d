import { readFileSync } from 'node:fs';
import { expect, logged, openApp, statusSince, test, write } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

/** The page helper's snippet, exactly as the status guide shows it. */
function guideSnippet(): string {
  const guide = readFileSync(new URL('../../docs/guide/status.md', import.meta.url), 'utf8');
  const section = guide.slice(guide.indexOf('## The page helper'));
  const snippet = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!snippet) throw new Error('no js block under "## The page helper" in docs/guide/status.md');
  return snippet;
}

test('the status guide’s page-helper snippet runs as written, on an outbox with two dead letters, a conflict and a write waiting', async ({ context, server }) => {
  // The snippet's own options, so that its registerOutbox() finds this worker.
  const page = await openApp(context, server, { include: ['/api/'] });
  await context.setOffline(true);
  for (const i of [1, 2]) expect((await write(page, 'POST', '/api/items', { i })).status).toBe(202);
  server.fail({ kind: 'status', status: 400 });
  server.fail({ kind: 'status', status: 422 });
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await statusSince(page, 0, 'drained');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 2, conflicts: 0 });
  // A conflict, in a lane of its own.
  await context.setOffline(true);
  expect((await write(page, 'PUT', '/api/items/9', { i: 9 }, { 'Outbox-Lane': 'docs' })).status).toBe(202);
  server.fail({ kind: 'status', status: 412 });
  const offline = await logged(page);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await statusSince(page, offline, 'conflict');
  expect(await page.evaluate(() => window.outbox.snapshot().then((s) => s.counts.conflicts))).toBe(1);
  // A write that waits a day, as the server asked: nothing sends it during the snippet.
  server.fail({ kind: 'status', status: 503, retryAfter: '86400' });
  expect((await write(page, 'POST', '/api/items', { i: 3 })).status).toBe(202);

  // As an app runs it: its module imports the helper by the package's name.
  const code = guideSnippet().replace("from 'sw-outbox/client'", `from '${server.url}/dist/client/index.js'`);
  const result = await page.evaluate(async (source) => {
    const url = URL.createObjectURL(new Blob([`const render = () => {};\nconst token = () => 'a-token';\n${source}\nexport { counts, unsent, entry };`], { type: 'text/javascript' }));
    const { counts, unsent, entry } = await import(url);
    return { counts, unsent: unsent.length, entry };
  }, code);
  expect(result).toMatchObject({ counts: { pending: 1, deadLetters: 2, conflicts: 1 }, unsent: 1, entry: { id: 1, state: 'pending' } });
  // Retried (and sent once the head before it was cancelled), discarded, the waiting one
  // cancelled into a dead letter, and the conflict sent again as it was.
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => JSON.parse(commit.body))).toEqual(expect.arrayContaining([{ i: 1 }, { i: 9 }]));
  await expect.poll(() => page.evaluate(() => window.outbox.snapshot().then((s) => s.counts))).toEqual({ pending: 0, deadLetters: 1, conflicts: 0 });
  const after = await page.evaluate(() => window.outbox.snapshot());
  expect(after.deadLetters.map((entry) => [entry.id, entry.deadCode])).toEqual([[4, 'cancelled']]);
});
