import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { IN_FLIGHT_PROBLEM_TYPE } from '../../server/index.js';
import { connectRedis, startRedis, type RedisClient, type RedisServer } from '../support/redis-server.js';

/**
 * The demo's API as a deployment runs it: several server processes on one real Redis,
 * each started as a user starts it (demo/start.ts with REDIS_URL), with a 1 s lease.
 */
const ROOT = new URL('../..', import.meta.url).pathname;
let redis: RedisServer;
let client: RedisClient;
const running: ChildProcess[] = [];

async function startInstance(env: Record<string, string> = {}, script = 'demo/start.ts', ready = /demo: (http:\/\/\S+?)\/ /): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, PORT: '0', REDIS_URL: redis.url, LEASE_MS: '1000', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  let output = '';
  for await (const chunk of child.stdout!) {
    output += String(chunk);
    const url = ready.exec(output)?.[1];
    if (url) return { url, process: child };
  }
  throw new Error(`${script} exited before it was ready: ${output}`);
}

before(async () => {
  redis = await startRedis();
  client = await connectRedis(redis.url);
});
after(async () => {
  for (const child of running) child.kill('SIGKILL');
  client.destroy();
  await redis.stop();
});

/** Once listening, `set`: the moment `key` is set in Redis, as its keyspace notifications tell. */
async function whenSet(key: string): Promise<{ set: Promise<void> }> {
  await client.configSet('notify-keyspace-events', 'K$');
  const subscriber = await client.duplicate().connect();
  let set = () => {};
  const event = new Promise<void>((resolve) => (set = resolve));
  await subscriber.subscribe(`__keyspace@0__:${key}`, (message) => message === 'set' && set());
  // In an object: an async function would wait for a promise it returns bare.
  return { set: event.finally(() => subscriber.destroy()) };
}

const write = (url: string, key: string, listId: string, name: string) =>
  fetch(`${url}/api/lists/${listId}/items`, { method: 'POST', body: JSON.stringify({ id: `id-${key}`, name }), headers: { 'idempotency-key': `"${key}"`, 'content-type': 'application/json' } });
const names = async (url: string, listId: string) => ((await (await fetch(`${url}/api/lists/${listId}`)).json()) as { items: { name: string }[] }).items.map((item) => item.name);

test('three instances on one Redis: one write sent to each at once, ten times over, is committed once', { timeout: 30_000 }, async () => {
  const instances = await Promise.all([startInstance(), startInstance(), startInstance()]);
  const lists = (await Promise.all(instances.map(async ({ url }) => (await fetch(`${url}/api/lists`)).json()))) as { id: string }[][];
  assert.equal(lists[0]!.length, 1, 'the three seeded one list between them');
  assert.deepEqual(lists[1], lists[0]);
  const listId = lists[0]![0]!.id;

  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => write(instances[i % 3]!.url, 'same-write', listId, 'Tea')));
  // Each answer is the one reply, or "in flight" (not the API's own 409 for an id it has).
  const kinds = await Promise.all(answers.map(async (answer) => (answer.status === 409 ? ((await answer.json()) as { type: string }).type : answer.status)));
  assert.ok(kinds.every((kind) => kind === 201 || kind === IN_FLIGHT_PROBLEM_TYPE), `only the reply or "in flight": ${kinds}`);
  assert.equal(answers.filter((answer) => answer.status === 201 && answer.headers.get('idempotent-replayed') === null).length, 1, 'one request processed it');
  for (const { url } of instances) assert.deepEqual(await names(url, listId), ['Milk', 'Eggs', 'Bread', 'Apples', 'Tea'], `${url} shows it once`);
  for (const { url } of instances) assert.equal((await write(url, 'same-write', listId, 'Tea')).headers.get('idempotent-replayed'), '?1');
});

test('an instance killed in the middle of a write frees its key after the lease: another instance then commits it once', { timeout: 30_000 }, async () => {
  const [doomed, survivor] = await Promise.all([startInstance(), startInstance()]);
  const listId = ((await (await fetch(`${survivor.url}/api/lists`)).json()) as { id: string }[])[0]!.id;
  // Writes on the doomed instance take 30 s, with their key claimed.
  await fetch(`${doomed.url}/_chaos`, { method: 'PUT', body: JSON.stringify({ slowMs: 30_000 }) });
  const claim = await whenSet('sw-outbox-demo:keys:\nmid-write');
  const lost = write(doomed.url, 'mid-write', listId, 'Honey').catch((error: Error) => error);
  await claim.set;
  const claimedAt = Date.now();
  assert.equal((await write(survivor.url, 'mid-write', listId, 'Honey')).status, 409, 'the key is in flight');
  doomed.process.kill('SIGKILL');
  await once(doomed.process, 'exit');
  assert.ok((await lost) instanceof Error, 'the killed instance never answered');

  // A client cannot see the lease end: like the outbox, it retries while it gets 409.
  let retry = await write(survivor.url, 'mid-write', listId, 'Honey');
  while (retry.status === 409) {
    await delay(100);
    retry = await write(survivor.url, 'mid-write', listId, 'Honey');
  }
  assert.equal(retry.status, 201);
  assert.ok(Date.now() - claimedAt >= 900, 'not before the 1 s lease was over');
  assert.equal((await names(survivor.url, listId)).filter((name) => name === 'Honey').length, 1);
});

test('device keys on three instances of a key endpoint, one Redis: a key made on one is served and revoked by the others; restarting every instance revokes nothing', { timeout: 30_000 }, async () => {
  const start = () => Promise.all([0, 1, 2].map(() => startInstance({}, 'test/support/key-server.ts', /keys: (http:\/\/\S+)/)));
  const ask = (url: string, method: string, query = '', body?: unknown) =>
    fetch(`${url}/${query}`, { method, headers: { 'x-user': 'ann', 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  let [a, b, c] = await start();
  // Asked at once on all three, the phone gets one key.
  const issued = await Promise.all([a!, b!, c!].map(async ({ url }) => (await (await ask(url, 'POST', '', { device: 'phone' })).json()) as { kid: string }));
  assert.equal(new Set(issued.map(({ kid }) => kid)).size, 1, 'one key for the device');
  const { kid } = issued[0]!;
  for (const { url } of [a!, b!, c!]) assert.equal((await ask(url, 'GET', `?kid=${kid}`)).status, 200, `${url} serves it`);

  // Every instance restarts: the key is still there.
  for (const instance of [a!, b!, c!]) {
    instance.process.kill('SIGTERM');
    await once(instance.process, 'exit');
  }
  [a, b, c] = await start();
  for (const { url } of [a!, b!, c!]) assert.equal((await ask(url, 'GET', `?kid=${kid}`)).status, 200, `${url} serves it after the restart`);
  assert.equal(((await (await ask(b!.url, 'POST', '', { device: 'phone' })).json()) as { kid: string }).kid, kid, 'the same key, not a new one');

  // Revoked on one: no instance serves it.
  assert.equal((await ask(a!.url, 'DELETE', `?kid=${kid}`)).status, 204);
  for (const { url } of [a!, b!, c!]) assert.equal((await ask(url, 'GET', `?kid=${kid}`)).status, 404, `${url} no longer serves it`);
});
