import { TestServer } from '../support/test-server.js';
import { expect, openApp, test, write } from '../support/fixtures.js';

const SF_UUID = /^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$/;

test('online writes pass through unchanged and stamped; reads are untouched', async ({ context, server }) => {
  const page = await openApp(context, server);

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    const answer = await write(page, method, `/api/items/${method}`, { method });
    // The page gets the server's own answer: its status, headers and body.
    expect(answer.status).toBe(201);
    expect(answer.headers['x-commit']).toBe(String(server.commits.length));
    expect(JSON.parse(answer.text)).toEqual({ committed: server.commits.length, key: server.commits.at(-1)?.key });
  }
  expect(server.commits.map((commit) => commit.method)).toEqual(['POST', 'PUT', 'PATCH', 'DELETE']);
  expect(server.commits.map((commit) => commit.body)).toEqual(['POST', 'PUT', 'PATCH', 'DELETE'].map((method) => JSON.stringify({ method })));
  for (const commit of server.commits) expect(commit.key).toMatch(SF_UUID);
  expect(new Set(server.commits.map((commit) => commit.key)).size).toBe(4);
  // One stable client id, and a sequence that counts the client's writes.
  const clientIds = new Set(server.commits.map((commit) => commit.clientId));
  expect(clientIds.size).toBe(1);
  expect([...clientIds][0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(server.commits.map((commit) => commit.seq)).toEqual([1, 2, 3, 4]);
  // The app's own headers arrive as it set them.
  expect(server.arrivals[0]?.headers['content-type']).toBe('application/json');

  const read = await write(page, 'GET', '/api/items');
  expect(read.status).toBe(200);
  expect(read.headers['x-seen-key']).toBe('');
  expect(server.arrivals.at(-1)?.headers['outbox-sequence']).toBeUndefined();
});

test("a key the app set is kept", async ({ context, server }) => {
  const page = await openApp(context, server);
  await write(page, 'POST', '/api/items', { a: 1 }, { 'Idempotency-Key': '"app-chosen-key"' });
  expect(server.commits[0]?.key).toBe('"app-chosen-key"');
});

test('cross-origin writes are untouched unless their origin is allowed', async ({ browser, context, server }) => {
  const other = await TestServer.start();
  try {
    const otherOrigin = other.url.replace('127.0.0.1', 'localhost');
    const plain = await openApp(context, server);
    expect((await write(plain, 'POST', `${otherOrigin}/api/items`, { a: 1 })).status).toBe(400);
    expect(other.arrivals.at(-1)?.key).toBeUndefined();

    const allowed = await browser.newContext();
    const page = await openApp(allowed, server, { origins: [otherOrigin] });
    expect((await write(page, 'POST', `${otherOrigin}/api/items`, { a: 2 })).status).toBe(201);
    expect(other.commits[0]?.key).toMatch(SF_UUID);
    await allowed.close();
  } finally {
    await other.stop();
  }
});

test('include and exclude narrow what the outbox handles', async ({ context, server }) => {
  const page = await openApp(context, server, { include: ['/api/*/items'], exclude: ['/api/private/'], methods: ['POST'] });
  await write(page, 'POST', '/api/lists/items', {});
  await write(page, 'POST', '/api/private/items', {});
  await write(page, 'PUT', '/api/lists/items', {});
  await write(page, 'POST', '/api/other', {});
  expect(server.arrivals.map((arrival) => [arrival.method, arrival.path, Boolean(arrival.key)])).toEqual([
    ['POST', '/api/lists/items', true],
    ['POST', '/api/private/items', false],
    ['PUT', '/api/lists/items', false],
    ['POST', '/api/other', false],
  ]);
});

test("a same-origin no-cors write still carries the outbox's headers", async ({ context, server }) => {
  const page = await openApp(context, server);
  // In no-cors mode the Headers guard drops every header that is not CORS-safelisted.
  await page.evaluate(() => fetch('/api/items', { method: 'POST', mode: 'no-cors', body: '{}' }));
  await server.waitForCommits(1);
  expect(server.commits[0]?.key).toBeTruthy();
  expect(server.commits[0]?.seq).toBe(1);
});
