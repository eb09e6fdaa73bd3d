import { expect, openApp, registerAndListen, test, write } from '../support/fixtures.js';

test("an app's own worker with a query string of its own imports the outbox: it installs, keeps its own routes, and the outbox takes outbox.<option>", async ({ context, server }) => {
  const page = await openApp(context, server, {}, '/host-sw.js?v=2&outbox.include=/api/&outbox.timeoutMs=5000');
  const [worker] = context.serviceWorkers();
  expect(worker?.url()).toContain('/host-sw.js?v=2');
  // The host's route, answered by the host's own listener.
  expect(await page.evaluate(() => fetch('/host-only').then((response) => response.text()))).toBe('host worker ?v=2&outbox.include=/api/&outbox.timeoutMs=5000');
  // The outbox's writes, stamped.
  expect((await write(page, 'POST', '/api/items', { i: 1 })).status).toBe(201);
  expect(server.commits[0]?.key).toMatch(/^"[0-9a-f-]{36}"$/);
  // Outside outbox.include: left alone.
  await write(page, 'POST', '/api-not/items', { i: 2 });
  expect(server.arrivals).toHaveLength(1);
});

test("a host worker's plain query parameters are never an error; a typo under the prefix is", async ({ browser, server }) => {
  const plain = await browser.newContext();
  const warnings: string[] = [];
  plain.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
  const page = await openApp(plain, server, {}, '/host-sw.js?v=2');
  expect((await write(page, 'POST', '/api/items', { i: 1 })).status).toBe(201);
  await plain.close();

  const typo = await browser.newContext();
  const failing = await typo.newPage();
  await failing.goto(`${server.url}/?sw=none`);
  const report = await registerAndListen(failing, '/host-sw.js?v=2&outbox.incude=/api/');
  expect(report.state).toBe('redundant');
  expect(report.message.type === 'config-error' && report.message.error).toMatchObject({ code: 'unknown-option', message: expect.stringContaining('"outbox.incude"') });
  await typo.close();
  // The plain form warns once, naming the parameters it left to the host.
  expect(warnings).toEqual([expect.stringContaining('left the query parameters v to the worker')]);
});
