import { build } from 'esbuild';
import { expect, openApp, test, write } from '../support/fixtures.js';
import { goOnline } from '../support/online.js';

/** The React view in test/support/react-app.ts, bundled with React as an app's build would. */
async function reactApp(): Promise<string> {
  const result = await build({
    entryPoints: [new URL('../support/react-app.ts', import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    globalName: 'ReactOutbox',
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

test('useOutbox() renders the counts, dead letters and conflicts as they change, and its actions act', async ({ context, server }) => {
  const page = await openApp(context, server, { include: ['/api/'] });
  await page.addScriptTag({ content: `${await reactApp()}\nReactOutbox.mount(document.body.appendChild(document.createElement('div')));` });
  const status = page.getByRole('status');
  await expect(status).toHaveText('0 waiting, 0 need a decision, 0 in conflict');

  await context.setOffline(true);
  for (const i of [1, 2]) expect((await write(page, 'POST', '/api/items', { i })).status).toBe(202);
  await expect(status).toHaveText('2 waiting, 0 need a decision, 0 in conflict');

  // The first is refused as stale (412): a conflict, which holds its lane for the user's choice.
  server.fail({ kind: 'status', status: 412 });
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await expect(status).toHaveText('1 waiting, 0 need a decision, 1 in conflict');
  await expect(page.getByRole('listitem')).toHaveText(/POST \/api\/items clashed \(412\)/);
  expect(server.commits).toEqual([]);

  await page.getByRole('button', { name: 'Keep mine' }).click();
  await expect(status).toHaveText('0 waiting, 0 need a decision, 0 in conflict');
  await server.waitForCommits(2);
  expect(server.commits.map((commit) => JSON.parse(commit.body))).toEqual([{ i: 1 }, { i: 2 }]);

  // A refusal that is no conflict is a dead letter, with Retry and Discard.
  server.fail({ kind: 'status', status: 422 });
  await context.setOffline(true);
  expect((await write(page, 'POST', '/api/items', { i: 3 })).status).toBe(202);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await expect(status).toHaveText('0 waiting, 1 need a decision, 0 in conflict');
  await page.getByRole('button', { name: 'Retry' }).click();
  await server.waitForCommits(3);
  await expect(status).toHaveText('0 waiting, 0 need a decision, 0 in conflict');
});
