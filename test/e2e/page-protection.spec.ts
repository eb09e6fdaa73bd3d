import type { Page } from '@playwright/test';
import { expect, openApp, pageControlledBy, test, write } from '../support/fixtures.js';
import { PROTOCOL_NAME, PROTOCOL_VERSION, type QueuedBody } from '../../sw/protocol.js';
import { type Command } from '../../sw/commands.js';
import { goOnline } from '../support/online.js';

/** What a call of the page helper made of the worker: its error's code, and how long it took. */
const failure = (page: Page, body: string) =>
  page.evaluate(async ([code, helper]) => {
    const { OutboxClient, registerOutbox } = (await import(helper)) as typeof import('../../client/index.js');
    const start = performance.now();
    try {
      await (0, eval)(`(async ({ OutboxClient, registerOutbox }) => { ${code} })`)({ OutboxClient, registerOutbox });
      return { code: 'none', message: '', ms: performance.now() - start };
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return { code: code ?? 'no code', message, ms: performance.now() - start };
    }
  }, [body, '/dist/client/index.js'] as const);

test('after a hard reload the page is controlled again, and a write it makes offline is kept and delivered once', async ({ context, server }) => {
  const page = await openApp(context, server);
  const cdp = await context.newCDPSession(page);
  const loaded = page.waitForEvent('load');
  await cdp.send('Page.reload', { ignoreCache: true });
  await loaded;
  expect(await page.evaluate(() => window.outboxReady)).toBe(true);
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  await context.setOffline(true);
  const answer = await write(page, 'POST', '/api/items', { i: 1 });
  expect(answer.status).toBe(202);
  const { idempotencyKey } = (JSON.parse(answer.text) as QueuedBody).outbox;
  await goOnline(context);
  await page.evaluate(() => window.outbox.replay());
  await server.waitForCommits(1);
  expect(server.commitsFor(idempotencyKey)).toHaveLength(1);
});

test('a worker whose scope cannot cover the page: registerOutbox rejects at once, naming the scope and the fix', async ({ context, server }) => {
  const page = await context.newPage();
  await page.goto(`${server.url}/?sw=none`);
  const result = await failure(page, "await registerOutbox({ scriptUrl: '/dist/outbox-sw.js' });");
  expect(result).toMatchObject({ code: 'out-of-scope', message: expect.stringContaining('/dist/') });
  expect(result.message).toContain('Service-Worker-Allowed');
  expect(result.ms).toBeLessThan(1_000);
  expect(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((all) => all.length))).toBe(0);
});

test('a worker of another release: the first call rejects with protocol-mismatch, and the client says so from the channel', async ({ context, server }) => {
  const page = await pageControlledBy(context, server, '/future-sw.js');
  const result = await failure(
    page,
    `const client = new OutboxClient({ ackTimeoutMs: 1000 });
     const told = new Promise((resolve) => client.onConfigError(resolve));
     try { await client.snapshot(); } catch (error) { const said = await told; if (said.code !== 'protocol-mismatch') throw said; throw error; }`,
  );
  expect(result).toMatchObject({ code: 'protocol-mismatch', message: expect.stringContaining('version 99') });
  expect(result.ms).toBeLessThan(1_000);
});

test('a worker that never answers: each call rejects with timeout within its time', async ({ context, server }) => {
  const page = await pageControlledBy(context, server, '/silent-sw.js');
  const result = await failure(page, 'await new OutboxClient({ ackTimeoutMs: 300 }).snapshot();');
  expect(result).toMatchObject({ code: 'timeout', message: expect.stringContaining('"snapshot" within 300 ms') });
  expect(result.ms).toBeGreaterThanOrEqual(300);
  expect(result.ms).toBeLessThan(2_000);
});

test('<outbox-status> on a page no outbox worker controls says that changes are not protected, until one does', async ({ context, server }) => {
  const page = await context.newPage();
  await page.goto(`${server.url}/?sw=none`);
  await page.evaluate(async (helper) => {
    const { defineOutboxStatus } = (await import(helper)) as typeof import('../../client/index.js');
    defineOutboxStatus();
    document.body.append(document.createElement('outbox-status'));
  }, '/dist/client/index.js');
  const status = page.locator('outbox-status');
  await expect(status).toHaveAttribute('unprotected', '');
  await expect(status.locator('.error')).toHaveText(/^Changes made on this page now are not kept if the network fails\./);

  await page.evaluate(async (helper) => {
    const { registerOutbox } = (await import(helper)) as typeof import('../../client/index.js');
    await registerOutbox();
  }, '/dist/client/index.js');
  await expect(status).not.toHaveAttribute('unprotected');
  await expect(status.locator('.error')).toBeHidden();
});

test('the one line (outbox-register.js) covers a hard reload: the page is claimed, and a write it makes offline is kept and delivered once; a bare register() call does not', async ({ context, server }) => {
  const hardReload = async (page: Page) => {
    const cdp = await context.newCDPSession(page);
    const loaded = page.waitForEvent('load');
    await cdp.send('Page.reload', { ignoreCache: true });
    await loaded;
  };
  const controlled = (page: Page) => page.evaluate(() => navigator.serviceWorker.controller !== null);

  // The control: the bare line registers, but nothing asks the worker to claim a hard-reloaded page.
  const bare = await context.newPage();
  await bare.goto(`${server.url}/?sw=none`);
  await bare.evaluate(async () => {
    await navigator.serviceWorker.register('/outbox-sw.js?include=/api/');
    await navigator.serviceWorker.ready;
  });
  await hardReload(bare);
  await bare.evaluate(() => navigator.serviceWorker.register('/outbox-sw.js?include=/api/').then(() => navigator.serviceWorker.ready));
  expect(await controlled(bare)).toBe(false);
  await bare.close();

  const page = await context.newPage();
  await page.goto(`${server.url}/one-line.html`);
  await expect.poll(() => controlled(page)).toBe(true);
  await hardReload(page);
  await expect.poll(() => controlled(page)).toBe(true);
  await context.setOffline(true);
  const answer = await write(page, 'POST', '/api/items', { i: 1 });
  expect(answer.status).toBe(202);
  const { idempotencyKey } = (JSON.parse(answer.text) as QueuedBody).outbox;
  await goOnline(context);
  // No page helper here: the worker is asked to replay the way the helper asks it.
  await page.evaluate((replay) => navigator.serviceWorker.controller!.postMessage(replay), { protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, type: 'replay', force: true } satisfies Command);
  await server.waitForCommits(1);
  expect(server.commitsFor(idempotencyKey)).toHaveLength(1);
});
