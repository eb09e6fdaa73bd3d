import { expect, openApp, registerAndListen, test, write } from '../support/fixtures.js';

test('invalid options are refused by the page helper with an error naming the option', async ({ page, server }) => {
  await page.goto(`${server.url}/?options=${encodeURIComponent(JSON.stringify({ methods: ['GET'] }))}`);
  const error = await page.evaluate(() => window.outboxReady.then(() => null, (e: Error & { code: string }) => ({ name: e.name, code: e.code, message: e.message })));
  expect(error).toMatchObject({ name: 'OutboxError', code: 'invalid-option' });
  expect(error?.message).toContain('"methods"');
  expect(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length))).toBe(0);
});

test('a worker registered with an invalid query string fails to install and says why on the channel', async ({ page, server }) => {
  await page.goto(`${server.url}/dist/client/index.js`); // any page of the origin, without the helper
  const report = await registerAndListen(page, '/outbox-sw.js?timeoutMs=soon&debug');
  expect(report.state).toBe('redundant');
  expect(report.message).toMatchObject({ type: 'config-error', error: { code: 'invalid-option' } });
  expect(report.message.type === 'config-error' && report.message.error.message).toContain('"timeoutMs"');
});

test('the worker logs each step, prefixed [sw-outbox], only with debug', async ({ browser, server }) => {
  const logsOf = async (options: { debug?: boolean }) => {
    const context = await browser.newContext();
    const logs: string[] = [];
    context.on('console', (message) => logs.push(message.text()));
    const page = await openApp(context, server, options);
    server.fail({ kind: 'reset' });
    await write(page, 'POST', '/api/items', {});
    await page.evaluate(() => window.outbox.replay());
    await write(page, 'POST', '/api/items', {});
    await context.close();
    return logs.filter((text) => text.includes('sw-outbox'));
  };
  expect(await logsOf({})).toEqual([]);
  const debug = await logsOf({ debug: true });
  expect(debug.length).toBeGreaterThanOrEqual(4);
  for (const line of debug) expect(line).toMatch(/^\[sw-outbox\] /);
  expect(debug.join('\n')).toContain('-> retry');
});
