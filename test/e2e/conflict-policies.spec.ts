import { expect, logged, openApp, statusSince, test, write } from '../support/fixtures.js';
import type { TestServer } from '../support/test-server.js';
import type { Snapshot } from '../../sw/commands.js';
import type { Json } from '../../contract/json-merge.js';
import { goOnline } from '../support/online.js';

const snapshot = (page: import('@playwright/test').Page): Promise<Snapshot> => page.evaluate(() => window.outbox.snapshot());
const read = (page: import('@playwright/test').Page, path: string) => page.evaluate((url) => fetch(url).then((response) => response.json()), path);
/** Someone else writes the document on the server meanwhile. */
const changeOnServer = (server: TestServer, path: string, change: Record<string, Json>) => {
  const document = server.documents.get(path)!;
  document.body = { ...(document.body as Record<string, Json>), ...change };
  document.version += 1;
};

test('conflict policies on their own paths, on a server that only refuses: merge from the version the outbox kept, keep theirs, keep mine; a clash is left to the person', async ({ context, server }) => {
  server.documents.set('/api/docs/1', { version: 1, body: { title: 'Trip', place: 'Oslo', days: 3 } });
  server.documents.set('/api/presence/1', { version: 1, body: { at: 'desk' } });
  server.documents.set('/api/drafts/1', { version: 1, body: { text: 'first' } });
  const page = await openApp(context, server, { include: ['/api/'], merge: ['/api/docs/'], keepTheirs: ['/api/presence/'], keepMine: ['/api/drafts/'] });
  // The app reads the document through the worker, which keeps that version to merge from.
  expect(await read(page, '/api/docs/1')).toEqual({ title: 'Trip', place: 'Oslo', days: 3 });

  await context.setOffline(true);
  for (const [path, body] of [['/api/docs/1', { title: 'Trip', place: 'Bergen', days: 3 }], ['/api/presence/1', { at: 'home' }], ['/api/drafts/1', { text: 'mine' }]] as const) {
    expect((await write(page, 'PUT', path, body, { 'If-Match': '"1"' })).status).toBe(202);
  }
  changeOnServer(server, '/api/docs/1', { days: 5 });
  changeOnServer(server, '/api/presence/1', { at: 'away' });
  changeOnServer(server, '/api/drafts/1', { text: 'theirs' });
  const settled = await logged(page);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());

  await expect.poll(() => server.documents.get('/api/drafts/1')!.body).toEqual({ text: 'mine' });
  expect(server.documents.get('/api/docs/1')!.body).toEqual({ title: 'Trip', place: 'Bergen', days: 5 });
  expect(server.documents.get('/api/presence/1')!.body).toEqual({ at: 'away' });
  await statusSince(page, settled, 'drained');
  expect((await snapshot(page)).counts).toEqual({ pending: 0, deadLetters: 0, conflicts: 0 });
  const resolved = await page.evaluate(() => window.statusLog.flatMap((message) => (message.type === 'resolved' ? [[new URL(message.entry.url).pathname, message.how]] : [])));
  expect(resolved).toEqual([['/api/docs/1', 'merged'], ['/api/presence/1', 'theirs'], ['/api/drafts/1', 'mine']]);
  // Each merged or kept write went once more, against the version the server had then.
  expect(server.commits.map(({ path }) => path)).toEqual(['/api/docs/1', '/api/drafts/1']);

  // Both change the place: no merge can say which, so the person decides.
  expect(await read(page, '/api/docs/1')).toEqual({ title: 'Trip', place: 'Bergen', days: 5 });
  await context.setOffline(true);
  await write(page, 'PUT', '/api/docs/1', { title: 'Trip', place: 'Tromsø', days: 5 }, { 'If-Match': `"${server.documents.get('/api/docs/1')!.version}"` });
  changeOnServer(server, '/api/docs/1', { place: 'Ålesund' });
  const clash = await logged(page);
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await statusSince(page, clash, 'conflict');
  expect((await snapshot(page)).counts.conflicts).toBe(1);
  const [conflict] = (await snapshot(page)).conflicts;
  const details = await page.evaluate((id) => window.outbox.conflict(id), conflict!.id);
  expect([details.base, details.ours, details.theirs]).toEqual([{ title: 'Trip', place: 'Bergen', days: 5 }, { title: 'Trip', place: 'Tromsø', days: 5 }, { title: 'Trip', place: 'Ålesund', days: 5 }]);
  expect(server.documents.get('/api/docs/1')!.body).toEqual({ title: 'Trip', place: 'Ålesund', days: 5 });
});
