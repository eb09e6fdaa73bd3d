import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test as nodeTest } from 'node:test';
import type { OutboxOptionsInput } from '../../../sw/options.js';
import type { QueuedBody } from '../../../sw/protocol.js';
import type { Snapshot } from '../../../sw/commands.js';
import type { PageAnswer } from '../../support/fixtures.js';
import { buildWorkerAt, RELEASE_0_1 } from '../../support/earlier-releases.js';
import { DeviceKeys } from '../../../server/device-keys.js';
import { markedBinary, MARKERS } from '../../support/markers.js';
import { filesContaining } from '../../support/profile-search.js';
import { STORED_STRINGS } from '../../support/stored-strings.js';
import { SPLIT_WORKER, TestServer } from '../../support/test-server.js';
import type { Engine, EngineBrowser, EnginePage } from './engine.js';

// Retries drawn below a day: the odds that one falls within a case's 20 s wait are 1 in
// 4,000, so only the trigger under test can replay.
const FAR_TIMERS: OutboxOptionsInput = { retryBaseMs: 86_400_000, retryMaxMs: 86_400_000 };
// Retries soon after a failure, so that a case waits on the outbox rather than its backoff.
const NEAR_TIMERS: OutboxOptionsInput = { retryBaseMs: 200, retryMaxMs: 1_000 };

/**
 * A test server serving the drop-in as a core and feature files (dist/outbox-sw/): in these
 * engines, the features a case's options use are loaded with importScripts(). Chromium's
 * suite runs the everything build, dist/outbox-sw.js.
 */
async function startServer(): Promise<TestServer> {
  const server = await TestServer.start();
  // OUTBOX_SW, when set, names another build (to show that a case fails on an older one).
  server.workerScript = process.env.OUTBOX_SW ?? SPLIT_WORKER;
  return server;
}

/** A case, with a time limit of its own (a describe's limit would cover all of them). */
const test = (name: string, run: () => Promise<void>) => nodeTest(name, { timeout: 60_000 }, run);

interface App {
  server: TestServer;
  browser: EngineBrowser;
  page: EnginePage;
}

/** Opens the test page (test/fixtures/index.html) and waits until the outbox (or the worker `sw` that imports it) controls it. */
async function openApp(browser: EngineBrowser, server: TestServer, options: OutboxOptionsInput = {}, sw?: string, query: Record<string, string> = {}): Promise<EnginePage> {
  const page = await browser.open(`${server.url}/?${new URLSearchParams({ options: JSON.stringify(options), ...(sw ? { sw } : {}), ...query })}`);
  await page.run('await window.outboxReady; return true;');
  return page;
}

/** A fresh server, browser and page for one case; all closed after it, whatever happens. */
async function withApp(engine: Engine, options: OutboxOptionsInput, run: (app: App) => Promise<void>, sw?: string): Promise<void> {
  const server = await startServer();
  const browser = await engine.launch();
  try {
    await run({ server, browser, page: await openApp(browser, server, options, sw) });
  } finally {
    await browser.close();
    server.release();
    await server.stop();
  }
}

function write(page: EnginePage, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<PageAnswer> {
  return page.run(`return window.write(${writeArgs(method, path, body, headers)});`);
}

/** Starts a write without waiting for its answer (its page would wait up to timeoutMs). */
function startWrite(page: EnginePage, path: string, body: unknown, headers: Record<string, string>): Promise<boolean> {
  return page.run(`void window.write(${writeArgs('POST', path, body, headers)}); return true;`);
}

const writeArgs = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => [method, path, body ?? null, headers ?? {}].map((arg) => JSON.stringify(arg)).join(', ');
const inLane = (lane: string) => ({ 'Outbox-Lane': lane });

/** Writes `count` items while the server is down; each gets the outbox's queued answer. */
async function writeDuringOutage(page: EnginePage, server: TestServer, count: number): Promise<QueuedBody['outbox'][]> {
  await server.stop(); // connections refused, open ones dropped
  const arrivals = server.arrivals.length;
  const queued: QueuedBody['outbox'][] = [];
  for (let i = 1; i <= count; i++) {
    const answer = await write(page, 'POST', '/api/items', { i });
    assert.equal(answer.status, 202, `write ${i} during the outage: ${answer.text}`);
    queued.push((JSON.parse(answer.text) as QueuedBody).outbox);
  }
  assert.equal(server.arrivals.length, arrivals);
  // Resolves once the worker's running replay is over, with the passes that the writes
  // asked for: none of them can then meet the server back up and pass for another trigger.
  await page.run('await window.outbox.replay(false); return true;');
  return queued;
}

const snapshot = (page: EnginePage) => page.run<Snapshot>('return window.outbox.snapshot();');
const statusTypes = (page: EnginePage) => page.run<string[]>('return window.statusLog.map((message) => message.type);');
const items = (server: TestServer) => server.commits.map((commit) => (JSON.parse(commit.body) as { i: number }).i);
const names = (records: { body: string }[]) => records.map((record) => (JSON.parse(record.body) as { n: string }).n);

/** How many status messages the page has logged so far: a mark to wait from. */
const logged = (page: EnginePage) => page.run<number>('return window.statusLog.length;');

/**
 * Resolves once the page has a status message, logged since `mark`, for which `test`
 * (page-side JavaScript of `message`) holds: found in its log, or awaited on its own
 * subscription. No polling: the page hears the worker's messages as they come.
 */
async function statusSince(page: EnginePage, mark: number, test: string, what: string, timeoutMs = 20_000): Promise<void> {
  await page.run(`
    const test = (message) => ${test};
    if (window.statusLog.slice(${mark}).some(test)) return true;
    return await new Promise((resolve, reject) => {
      const stop = window.outbox.subscribe((message) => {
        if (!test(message)) return;
        clearTimeout(timer);
        stop();
        resolve(true);
      });
      const timer = setTimeout(() => {
        stop();
        reject(new Error(${JSON.stringify(`timed out waiting for ${what}`)}));
      }, ${timeoutMs});
    });`);
}

const DRAINED = "message.type === 'drained'";
const NEEDS_AUTH = "message.type === 'needs-auth'";

/** Resolves once `read()` gives `expected`, asking every 100 ms: for what no page event says (caches, navigations). */
async function until<T>(read: () => Promise<T>, expected: T, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let actual = await read();
  while (!isDeepEqual(actual, expected)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(actual)}, wanted ${JSON.stringify(expected)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    actual = await read();
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Every write of `queued` committed once, in the order the app made them, under its key. */
function assertDeliveredOnceInOrder(server: TestServer, queued: QueuedBody['outbox'][]): void {
  assert.deepEqual(
    server.commits.map((commit) => [commit.key, commit.seq]),
    queued.map((body) => [body.idempotencyKey, body.id]),
  );
  for (const body of queued) assert.equal(server.commitsFor(body.idempotencyKey).length, 1);
}

/**
 * The outbox's promises, checked in a real engine that has no Background Sync. Outages
 * are made at the test server (refused connections, resets, 503), since these engines'
 * offline switches do not reach the worker's own fetches.
 */
export function defineOutboxCases(engine: Engine): void {
  describe(engine.name, () => {
    test('has no Background Sync: the outbox replays on its own timers, the page’s, the page’s online and visibility signals, and the next write', () =>
      withApp(engine, {}, async ({ page }) => {
        assert.equal(await page.run("return 'sync' in (await navigator.serviceWorker.ready);"), false);
      }));

    test('online writes pass through unchanged and stamped with Idempotency-Key; reads are untouched', () =>
      withApp(engine, {}, async ({ server, page }) => {
        const answer = await write(page, 'PUT', '/api/items/7', { name: 'Milk' }, { 'X-App': 'kept' });
        assert.equal(answer.status, 201);
        assert.equal(answer.headers['x-commit'], '1');
        const [arrival] = server.arrivals;
        assert.equal(arrival?.method, 'PUT');
        assert.equal(arrival?.path, '/api/items/7');
        assert.equal(arrival?.body, JSON.stringify({ name: 'Milk' }));
        assert.equal(arrival?.headers['x-app'], 'kept');
        assert.match(arrival?.key ?? '', /^"[0-9a-f-]{36}"$/);
        assert.match(String(arrival?.headers['outbox-client-id']), /^[0-9a-f-]{36}$/);

        const read = await page.run<{ status: number; seenKey: string | null }>(
          "const response = await fetch('/api/items/7'); return { status: response.status, seenKey: response.headers.get('X-Seen-Key') };",
        );
        assert.deepEqual(read, { status: 200, seenKey: '' });
      }));

    test('writes made while the server refuses connections reach it once and in order when it is back, with the page left open and idle', () =>
      withApp(engine, NEAR_TIMERS, async ({ server, page }) => {
        const queued = await writeDuringOutage(page, server, 5);
        const mark = await logged(page);
        await server.listen();
        await server.waitForCommits(5);
        assertDeliveredOnceInOrder(server, queued);
        await statusSince(page, mark, DRAINED, 'an empty outbox');
        assert.deepEqual((await snapshot(page)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
      }));

    test('ten writes made at once while the server refuses connections, in two lanes (group commit): each reaches it once, each lane in the order made', () =>
      withApp(engine, FAR_TIMERS, async ({ server, page }) => {
        await server.stop();
        const statuses = await page.run<number[]>("return (await Promise.all(Array.from({ length: 10 }, (_, n) => window.write('POST', '/api/items', { n }, { 'Outbox-Lane': 'lane-' + (n % 2) })))).map((answer) => answer.status);");
        assert.deepEqual(statuses, Array(10).fill(202));
        await server.listen();
        await page.run('await window.outbox.replay(); return true;');
        await server.waitForCommits(10);
        const made = server.commits.map((commit) => (JSON.parse(commit.body) as { n: number }).n);
        assert.deepEqual(made.filter((n) => n % 2 === 0), [0, 2, 4, 6, 8]);
        assert.deepEqual(made.filter((n) => n % 2 === 1), [1, 3, 5, 7, 9]);
        assert.equal(new Set(server.commits.map((commit) => commit.key)).size, 10);
      }));

    test('the next write that succeeds sends the queued writes before it', () =>
      withApp(engine, FAR_TIMERS, async ({ server, page }) => {
        const queued = await writeDuringOutage(page, server, 3);
        await server.listen();
        const answer = await write(page, 'POST', '/api/items', { i: 4 });
        assert.equal(answer.status, 201, answer.text);
        assert.deepEqual(items(server), [1, 2, 3, 4]);
        assert.deepEqual(server.commits.slice(0, 3).map((commit) => commit.key), queued.map((body) => body.idempotencyKey));
        assert.equal(server.arrivals.length, 4);
      }));

    // Headless pages stay visible and these engines' offline switches reach neither page nor
    // worker, so the test fires the events the browser fires when the device reconnects
    // and when the user comes back to the tab.
    for (const signal of ['online', 'visibilitychange'] as const) {
      test(`the page’s ${signal} event replays at once`, () =>
        withApp(engine, FAR_TIMERS, async ({ server, page }) => {
          const queued = await writeDuringOutage(page, server, 2);
          await server.listen();
          await page.run(`${signal === 'online' ? 'window' : 'document'}.dispatchEvent(new Event('${signal}')); return true;`);
          await server.waitForCommits(2);
          assertDeliveredOnceInOrder(server, queued);
        }));
    }

    test('a write whose response was lost after commit is applied once', () =>
      withApp(engine, NEAR_TIMERS, async ({ server, page }) => {
        server.fail({ kind: 'lose-response' });
        const mark = await logged(page);
        const answer = await write(page, 'POST', '/api/items', { lost: true });
        assert.equal(answer.status, 202); // the outbox cannot know the server applied it
        const { idempotencyKey } = (JSON.parse(answer.text) as QueuedBody).outbox;
        await server.waitFor(() => server.arrivalsFor(idempotencyKey).length === 2, 'the replay');
        await statusSince(page, mark, DRAINED, 'the replay to settle');
        assert.equal((await snapshot(page)).counts.pending, 0);
        assert.equal(server.commitsFor(idempotencyKey).length, 1);
      }));

    test('a socket reset during replay, then 503 with Retry-After: retried after the delay, nothing dropped', () =>
      withApp(engine, { retryBaseMs: 1, retryMaxMs: 50 }, async ({ server, page }) => {
        const queued = await writeDuringOutage(page, server, 3);
        server.fail({ kind: 'reset' });
        // Longer than the idle time after which the cases' Firefox stops its worker.
        server.fail({ kind: 'status', status: 503, retryAfter: '3' });
        await server.listen();
        await server.waitForCommits(3, 30_000);

        const [reset, refused, accepted] = server.arrivalsFor(queued[0]!.idempotencyKey);
        assert.ok(reset && refused && accepted);
        assert.ok(accepted.at - refused.at >= 3_000, `retried ${accepted.at - refused.at} ms after the 503`);
        assertDeliveredOnceInOrder(server, queued);
        assert.equal(server.arrivals.length, 5);
      }));

    test('status messages reach the page’s helper, without bodies', () =>
      withApp(engine, NEAR_TIMERS, async ({ server, page }) => {
        await writeDuringOutage(page, server, 1);
        await server.listen();
        await server.waitForCommits(1);
        await statusSince(page, 0, DRAINED, 'the drained message');
        const types = await statusTypes(page);
        for (const type of ['queued', 'sending', 'retry-scheduled', 'sent', 'drained']) assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
        assert.ok(types.indexOf('queued') < types.indexOf('sent') && types.indexOf('sent') < types.lastIndexOf('drained'));
        assert.doesNotMatch(await page.run<string>('return JSON.stringify(window.statusLog);'), /"i":1/);
      }));

    test('a 4xx dead letter is visible and can be retried and discarded', () =>
      withApp(engine, NEAR_TIMERS, async ({ server, page }) => {
        const queued = await writeDuringOutage(page, server, 2);
        server.fail({ kind: 'status', status: 400 }, TestServer.bodyHas('i', 1));
        const first = await logged(page);
        await server.listen();
        await server.waitForCommits(1);
        assert.deepEqual(items(server), [2]);
        await statusSince(page, first, DRAINED, 'one dead letter, and the write behind it sent');
        assert.deepEqual((await snapshot(page)).counts, { pending: 0, deadLetters: 1, conflicts: 0 });
        const [dead] = (await snapshot(page)).deadLetters;
        assert.equal(dead?.lastStatus, 400);
        assert.equal(dead?.deadReason, 'HTTP 400');

        await page.run(`await window.outbox.retry(${dead!.id}); return true;`);
        await server.waitForCommits(2);
        assert.deepEqual(items(server), [2, 1]);
        assert.notEqual(server.commits[1]?.key, queued[0]?.idempotencyKey); // the 400 spent the first key

        await writeDuringOutage(page, server, 1);
        server.fail({ kind: 'status', status: 422 });
        const second = await logged(page);
        await server.listen();
        await statusSince(page, second, DRAINED, 'another dead letter');
        assert.deepEqual((await snapshot(page)).counts, { pending: 0, deadLetters: 1, conflicts: 0 });
        const [unwanted] = (await snapshot(page)).deadLetters;
        await page.run(`await window.outbox.discard(${unwanted!.id}); return true;`);
        assert.deepEqual((await snapshot(page)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
        assert.equal(server.commits.length, 2);
      }));

    test('a shared device: user A’s writes wait through user B’s session and go under A’s own once A signs in again; purge erases', () =>
      withApp(engine, FAR_TIMERS, async ({ server, page }) => {
        server.checkUsers = true;
        const signIn = (user: string) => page.run(`document.cookie = 'session=${user}; path=/'; await window.outbox.signIn('${user}'); return true;`);
        await signIn('ann');
        const queued = await writeDuringOutage(page, server, 2);
        await page.run('await window.outbox.signOut(); return true;');
        await signIn('bo');
        await server.listen();
        assert.equal((await write(page, 'POST', '/api/items', { by: 'bo' })).status, 201);
        await page.run('await window.outbox.replay(); return true;');
        assert.deepEqual(server.commits.map((commit) => commit.user), ['bo'], 'none of A’s is committed under B');
        await page.run('await window.outbox.signOut(); return true;');
        await signIn('ann');
        await server.waitForCommits(3);
        assert.deepEqual(server.commits.slice(1).map((commit) => [commit.user, commit.key]), queued.map((body) => ['ann', body.idempotencyKey]));
        await server.stop();
        await write(page, 'POST', '/api/items', { note: 'purge-marker' });
        assert.deepEqual(await page.run('return window.outbox.signOut({ pending: \'purge\' });'), { sent: 0, kept: 0, purged: 1 });
        assert.deepEqual((await snapshot(page)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
      }));

    test('a token that expires offline: the replay gets 401 and waits as needs-auth; the page gives a fresh token when the worker asks, and each write is committed once, in order', () =>
      withApp(engine, FAR_TIMERS, async ({ server, page }) => {
        server.token = 'old-token';
        const queued = await writeDuringOutage(page, server, 0);
        for (const i of [1, 2]) queued.push((JSON.parse((await write(page, 'POST', '/api/items', { i }, { Authorization: 'Bearer old-token' })).text) as QueuedBody).outbox);
        server.token = 'fresh-token';
        const mark = await logged(page);
        await server.listen();
        await page.run('await window.outbox.replay(); return true;');
        await statusSince(page, mark, NEEDS_AUTH, 'the lane waiting for credentials');
        assert.deepEqual((await snapshot(page)).lanes.map((lane) => lane.state), ['needs-auth']);
        assert.deepEqual(server.commits, []);
        await page.run("window.outbox.onCredentials(() => ({ Authorization: 'Bearer fresh-token' })); await window.outbox.credentialsChanged(); return true;");
        await server.waitForCommits(2);
        assert.deepEqual(items(server), [1, 2]);
        const stored = await page.run<string>(`const db = await new Promise((resolve) => { const open = indexedDB.open('sw-outbox'); open.onsuccess = () => resolve(open.result); });
          const all = await new Promise((resolve) => { const request = db.transaction('requests').objectStore('requests').getAll(); request.onsuccess = () => resolve(request.result); });
          db.close();
          return JSON.stringify(all);`);
        assert.ok(!stored.includes('token'), 'no token in the stored requests');
      }));

    test('a cookie session that ends while writes wait: redirected to the sign-in page, none is settled there; once the person signs in again and a page opens, each is committed once, in order', async () => {
      // On a profile, so that the page opened last shares the first one's worker.
      const profile = await mkdtemp(join(tmpdir(), 'sw-outbox-profile-'));
      const server = await startServer();
      const browser = await engine.launch({ profile });
      try {
        const page = await openApp(browser, server, FAR_TIMERS);
        await page.run("document.cookie = 'session=ana; path=/'; return true;");
        assert.equal((await write(page, 'POST', '/api/items', { i: 1 })).status, 201);
        server.endedSessions.add('ana');
        // Write 2 meets the sign-in page and waits from then on: its needs-auth message comes now.
        const mark = await logged(page);
        assert.equal((await write(page, 'POST', '/api/items', { i: 2 })).status, 202, 'kept, not answered with the sign-in page');
        await server.stop();
        for (const i of [3, 4, 5]) assert.equal((await write(page, 'POST', '/api/items', { i })).status, 202);
        await server.listen();
        await page.run('await window.outbox.replay(); return true;');
        await statusSince(page, mark, NEEDS_AUTH, 'the lane waiting for a session');
        assert.deepEqual((await snapshot(page)).lanes.map((lane) => [lane.state, lane.waiting]), [['needs-auth', 4]]);
        assert.deepEqual(items(server), [1]);
        server.endedSessions.delete('ana');
        await browser.open(`${server.url}/?sw=none`); // a page of the app opens: no app code
        await server.waitForCommits(5);
        assert.deepEqual(items(server), [1, 2, 3, 4, 5]);
        assert.equal(new Set(server.commits.map((commit) => commit.key)).size, 5);
      } finally {
        await browser.close();
        server.release();
        await server.stop();
        await rm(profile, { recursive: true, force: true });
      }
    });

    test('a form post whose session ended takes the person to the sign-in page and is kept; once they sign in, it is committed once; a post/redirect/get settles as before', async () => {
      // On a profile, so that the form's page shares the first page's worker.
      const profile = await mkdtemp(join(tmpdir(), 'sw-outbox-profile-'));
      const server = await startServer();
      const browser = await engine.launch({ profile });
      // The page's address and heading once a navigation has ended (a run during one may fail: asked again).
      const where = (page: EnginePage) => page.run<string>("return document.readyState === 'complete' ? location.pathname + location.search + ' ' + document.querySelector('h1')?.textContent : 'loading';").catch(() => 'loading');
      const post = (page: EnginePage, field: string, value: string) => page.run(`document.querySelector('input[name=${field}]').value = ${JSON.stringify(value)}; document.querySelector('form').requestSubmit(); return true;`);
      const notes = () => server.commits.map((commit) => new URLSearchParams(commit.body).get('note'));
      try {
        // Every same-origin post (the default include), the sign-in form's too.
        const app = await openApp(browser, server, { forms: true, ...FAR_TIMERS });
        await app.run("document.cookie = 'session=ana; path=/'; return true;");
        const page = await browser.open(`${server.url}/notes.html`);
        await post(page, 'note', 'one');
        await until(() => where(page), '/notes.html?sent=1 Notes', 'the post/redirect/get');
        server.endedSessions.add('ana');
        const ended = await logged(app);
        await post(page, 'note', 'two');
        await until(() => where(page), '/login?next=%2Fnotes.html Sign in', 'the sign-in page');
        await statusSince(app, ended, NEEDS_AUTH, 'the note waiting for a session');
        // Polled after the message: the sign-in page opens through the worker, and a page
        // opening sends what waits for a session again, so the lane goes back and forth
        // between needs-auth and sending until the person signs in (as in sessions.spec.ts).
        await until(async () => (await snapshot(app)).lanes.map((lane) => [lane.state, lane.waiting]), [['needs-auth', 1]], 'the lane waiting for a session');
        assert.deepEqual(notes(), ['one']);
        const back = await logged(app);
        await post(page, 'user', 'ana');
        await server.waitForCommits(2);
        assert.deepEqual(notes(), ['one', 'two']);
        assert.equal(new Set(server.commits.map((commit) => commit.key)).size, 2);
        await statusSince(app, back, DRAINED, 'nothing left waiting');
        assert.deepEqual((await snapshot(app)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
      } finally {
        await browser.close();
        server.release();
        await server.stop();
        await rm(profile, { recursive: true, force: true });
      }
    });

    // The two ways an app wires credentials (README, "Credentials at send time"), each with
    // the token refreshed while offline and with the server refusing the old one first.
    for (const wiring of ['callback', 'credentialsChanged'] as const) {
      for (const order of ['refreshed offline', '401 first'] as const) {
        test(`credentials wired by ${wiring === 'callback' ? 'a callback only' : 'credentialsChanged() after each refresh'}, token ${order}: each write committed once, in order, with the fresh token`, async () => {
          // On a profile, so that a page opened later shares the first one's worker.
          const profile = await mkdtemp(join(tmpdir(), 'sw-outbox-profile-'));
          const server = await startServer();
          const browser = await engine.launch({ profile });
          const [OLD, FRESH] = ['old-token-31f0', 'fresh-token-8d2a'];
          const opened = () => openApp(browser, server, FAR_TIMERS, undefined, { token: 'local' });
          const refresh = (page: EnginePage) => page.run(`localStorage.setItem('token', '${FRESH}'); ${wiring === 'credentialsChanged' ? 'await window.outbox.credentialsChanged();' : ''} return true;`);
          try {
            server.token = OLD;
            const page = await opened();
            await page.run(`localStorage.setItem('token', '${OLD}'); return true;`);
            await server.stop();
            for (const i of [1, 2]) assert.equal((await write(page, 'POST', '/api/items', { i }, { Authorization: `Bearer ${OLD}` })).status, 202);
            await page.run('await window.outbox.replay(false); return true;');
            server.token = FRESH; // the old token expires meanwhile
            if (order === 'refreshed offline') await refresh(page);
            const mark = await logged(page);
            await server.listen();
            await page.run('await window.outbox.replay(); return true;');
            if (order === '401 first') {
              await statusSince(page, mark, NEEDS_AUTH, 'the lane waiting for credentials');
              assert.deepEqual((await snapshot(page)).lanes.map((lane) => lane.state), ['needs-auth']);
              assert.deepEqual(server.commits, []);
              await refresh(page);
              // With a callback only, nothing tells the worker: the person opening the app again does.
              if (wiring === 'callback') await opened();
            }
            await server.waitForCommits(2);
            assert.deepEqual(items(server), [1, 2]);
            const refused = server.arrivals.filter((arrival) => arrival.headers.authorization === `Bearer ${OLD}`).length;
            assert.equal(refused, wiring === 'credentialsChanged' && order === 'refreshed offline' ? 0 : 1, 'the old token, sent once at most');
          } finally {
            await browser.close();
            server.release();
            await server.stop();
            await rm(profile, { recursive: true, force: true });
          }
        });
      }
    }

    test('a slow server that is answering: writes whose attempts time out, meet "still in flight" and then a dropped connection follow what it says, never the outage rule; each committed once, in order', () =>
      withApp(engine, { timeoutMs: 1_000 }, async ({ server, page }) => {
        const queued = await writeDuringOutage(page, server, 4);
        const back = await page.run<number>('return Date.now();');
        server.inFlightRetryAfter = '1';
        server.dropFirstRepeat = true;
        for (const _ of queued) server.fail({ kind: 'slow-commit', delayMs: 3_000 });
        await server.listen();
        await page.run('await window.outbox.replay(); return true;');
        await server.waitForCommits(4, 40_000);
        assert.deepEqual(items(server), [1, 2, 3, 4]);
        assert.deepEqual(server.commits.map((commit) => commit.key), queued.map((write) => write.idempotencyKey));
        const waits = await page.run<[number, string][]>(`return window.statusLog.filter((m) => m.type === 'retry-scheduled' && m.at >= ${back}).map((m) => [m.retryAt - m.at, m.error]);`);
        assert.ok(waits.some(([, error]) => error.startsWith('network error')), 'a dropped connection was met');
        // Retry-After 1 s, the in-flight wait (under retryBaseMs, 1 s), or the outage rule
        // counted from the attempt that timed out (about 2 s ago): none waits 2.5 s.
        assert.deepEqual(waits.filter(([delay]) => delay > 2_500), []);
      }));

    test('order holds within a lane while another lane goes on: a held write holds back only the writes of its own lane', () =>
      withApp(engine, FAR_TIMERS, async ({ server, page }) => {
        server.fail({ kind: 'hold' }, TestServer.bodyHas('n', 'a1'));
        await startWrite(page, '/api/items', { n: 'a1' }, inLane('a'));
        await server.waitFor(() => server.arrivals.some(TestServer.bodyHas('n', 'a1')), 'a1 to arrive');
        const mark = await logged(page);
        await startWrite(page, '/api/items', { n: 'a2' }, inLane('a'));
        await statusSince(page, mark, "message.type === 'queued' && message.entry.lane === 'a'", 'a2 stored behind a1');
        assert.equal((await snapshot(page)).lanes.find((lane) => lane.lane === 'a')?.waiting, 2);
        for (const n of ['b1', 'b2']) assert.equal((await write(page, 'POST', '/api/items', { n }, inLane('b'))).status, 201);
        assert.deepEqual(names(server.arrivals), ['a1', 'b1', 'b2']);
        server.release();
        await server.waitForCommits(4);
        assert.deepEqual(names(server.commits), ['a1', 'b1', 'b2', 'a2']);
        assert.deepEqual(server.arrivals.map((arrival) => arrival.headers['outbox-lane']), ['a', 'b', 'b', 'a']);
      }));

    test('a waiting write can be cancelled: a dead letter with reason cancelled, then discarded; the write behind it goes on', () =>
      withApp(engine, FAR_TIMERS, async ({ server, page }) => {
        const [first, second] = await writeDuringOutage(page, server, 2);
        await page.run(`await window.outbox.cancel(${first!.id}); return true;`);
        const cancelled = await snapshot(page);
        assert.deepEqual(cancelled.counts, { pending: 1, deadLetters: 1, conflicts: 0 });
        assert.equal(cancelled.deadLetters[0]?.deadCode, 'cancelled');
        await server.listen();
        await page.run('await window.outbox.replay(); return true;');
        await server.waitForCommits(1);
        assert.deepEqual(server.commits.map((commit) => commit.key), [second!.idempotencyKey]);
        await page.run(`await window.outbox.discard(${first!.id}); return true;`);
        assert.deepEqual((await snapshot(page)).counts, { pending: 0, deadLetters: 0, conflicts: 0 });
      }));

    test('an app’s own worker with a query string of its own imports the outbox: its routes stay its own, the outbox takes outbox.<option>', () =>
      withApp(
        engine,
        {},
        async ({ server, page }) => {
          assert.equal(await page.run<string>("return (await fetch('/host-only')).text();"), 'host worker ?v=2&outbox.include=/api/');
          assert.equal((await write(page, 'POST', '/api/items', { i: 1 })).status, 201);
          assert.match(server.commits[0]?.key ?? '', /^"[0-9a-f-]{36}"$/);
          await write(page, 'POST', '/api-not/items', { i: 2 });
          assert.equal(server.arrivals.length, 1, 'a write outside outbox.include is left alone');
        },
        '/host-sw.js?v=2&outbox.include=/api/',
      ));

    test(`a site updates from 0.1 (${RELEASE_0_1}) with writes waiting: each is delivered once, in order, with its 0.1 key and sequence`, async () => {
      const server = await startServer();
      server.workerScript = await buildWorkerAt(RELEASE_0_1);
      const browser = await engine.launch();
      try {
        // 0.1 registered as a site would, without this release's page helper.
        const page = await browser.open(`${server.url}/?sw=none`);
        const register = `await navigator.serviceWorker.register('/outbox-sw.js?retryBaseMs=86400000&retryMaxMs=86400000');
          await navigator.serviceWorker.ready;
          if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
          return true;`;
        await page.run(register);
        await server.stop();
        const queued: QueuedBody['outbox'][] = [];
        for (let i = 1; i <= 3; i++) {
          const answer = await write(page, 'POST', '/api/items', { i });
          assert.equal(answer.status, 202, answer.text);
          // 0.1's queued body had the entry's id and key at its top level.
          queued.push(JSON.parse(answer.text) as QueuedBody['outbox']);
        }
        await server.listen();
        const version = () => page.run<number | undefined>("return (await indexedDB.databases()).find((db) => db.name === 'sw-outbox')?.version;");
        assert.equal(await version(), 1, '0.1 keeps its writes in its own database');
        server.workerScript = SPLIT_WORKER;
        await page.run(`const changed = new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
          await (await navigator.serviceWorker.getRegistration()).update();
          await changed;
          const { OutboxClient } = await import('/dist/client/index.js');
          await new OutboxClient().replay();
          return true;`);
        await server.waitForCommits(3);
        assertDeliveredOnceInOrder(server, queued);
        assert.equal(new Set(server.commits.map((commit) => commit.clientId)).size, 1);
        const next = await write(page, 'POST', '/api/items', { i: 4 });
        assert.equal(next.status, 201, next.text);
        assert.equal(server.commits[3]?.seq, 4);
        assert.equal(await version(), 5);
      } finally {
        await browser.close();
        server.release();
        await server.stop();
      }
    });

    test('with shell and reads listed, the app opens while its server is down and shows its last data, marked as from the cache, and the edit made since', async () => {
      const options: OutboxOptionsInput = { shell: ['/', '/dist/client/index.js'], reads: ['/api/items'] };
      // On a profile, so that the second page shares the first one's worker and caches.
      const profile = await mkdtemp(join(tmpdir(), 'sw-outbox-profile-'));
      const server = await startServer();
      const browser = await engine.launch({ profile });
      try {
        const page = await openApp(browser, server, options);
        assert.equal((await write(page, 'POST', '/api/items', { i: 1 })).status, 201);
        const fresh = await page.run<string>("return (await fetch('/api/items')).text();");
        // The shell is stored while the worker installs, which the page does not wait for.
        await until(() => page.run<number>("return (await (await caches.open('sw-outbox-shell')).keys()).length;"), 2, 'the shell cached');
        await server.stop();
        assert.equal((await write(page, 'POST', '/api/items', { i: 2 })).status, 202);
        const again = await openApp(browser, server, options);
        const cached = await again.run<{ fromCache: string | null; text: string }>(
          "const response = await fetch('/api/items'); return { fromCache: response.headers.get('Outbox-From-Cache'), text: await response.text() };",
        );
        assert.deepEqual(cached, { fromCache: '?1', text: fresh });
        // The edit made since, which the reopened page can draw over what it read.
        const unsent = await again.run<{ method: string; body: string; mine: boolean }[]>(
          'return (await window.outbox.pending({ bodies: true })).map((write) => ({ method: write.method, body: new TextDecoder().decode(write.body), mine: write.mine }));',
        );
        assert.deepEqual(unsent, [{ method: 'POST', body: '{"i":2}', mine: false }]);
      } finally {
        await browser.close();
        await server.stop();
        await rm(profile, { recursive: true, force: true });
      }
    });

    test('with forms, a form post with a file part made while the server is down is saved on the device, the person is told so, and it is delivered once with the same bytes', async () => {
      const options: OutboxOptionsInput = { include: ['/api/'], forms: true };
      const profile = await mkdtemp(join(tmpdir(), 'sw-outbox-profile-'));
      const server = await startServer();
      const browser = await engine.launch({ profile });
      try {
        await openApp(browser, server, options);
        const form = await browser.open(`${server.url}/form.html`);
        await server.stop();
        await form.run(`document.querySelector('[name=note]').value = 'offline';
          const files = new DataTransfer();
          files.items.add(new File(['pretend these are the bytes of a photo\\n'], 'photo.txt', { type: 'text/plain' }));
          document.querySelector('[name=photo]').files = files.files;
          setTimeout(() => document.querySelector('form').requestSubmit(), 0);
          return true;`);
        await until(() => form.run<string>('return document.title;').catch(() => ''), 'Saved on this device', 'the saved page');
        await server.listen();
        const app = await openApp(browser, server, options);
        await app.run('await window.outbox.replay(); return true;');
        await server.waitForCommits(1);
        assert.equal(server.arrivals.length, 1);
        assert.match(server.arrivals[0]!.body, /pretend these are the bytes of a photo\n/);
        assert.match(server.arrivals[0]!.body, /name="note"\r\n\r\noffline\r\n/);
        assert.match(String(server.arrivals[0]!.headers['content-type']), /^multipart\/form-data; boundary=/);
      } finally {
        await browser.close();
        await server.stop();
        await rm(profile, { recursive: true, force: true });
      }
    });

    test('a browser restart on the same profile with writes in the outbox: all replayed once a page of the app opens (no Background Sync to start the worker alone)', async () => {
      const profile = await mkdtemp(join(tmpdir(), 'sw-outbox-profile-'));
      const server = await startServer();
      try {
        let browser = await engine.launch({ profile });
        let queued: QueuedBody['outbox'][];
        try {
          queued = await writeDuringOutage(await openApp(browser, server, FAR_TIMERS), server, 3);
        } finally {
          await browser.close();
        }
        await server.listen();
        browser = await engine.launch({ profile });
        try {
          // Opening a page of the app starts the worker and asks it to send what waits.
          await openApp(browser, server, FAR_TIMERS);
          await server.waitForCommits(3);
          assertDeliveredOnceInOrder(server, queued);
        } finally {
          await browser.close();
        }
      } finally {
        await server.stop();
        await rm(profile, { recursive: true, force: true });
      }
    });
    for (const encrypted of [true, false]) {
      test(encrypted
        ? 'encryption on: no marker in any IndexedDB record or profile file, through a browser restart with the server down, an offline reload and more writes; then each write is delivered once, byte for byte'
        : 'encryption off, the control: the same two searches find the body and header markers', async () => {
        const options: OutboxOptionsInput = { ...FAR_TIMERS, include: ['/api/'], shell: ['/', '/dist/client/index.js'], ...(encrypted ? { encryptionKeyUrl: '/outbox-key' } : {}) };
        const profile = await mkdtemp(join(tmpdir(), 'sw-outbox-profile-'));
        const server = await startServer();
        server.keys = new DeviceKeys();
        const marked = (tag: 'one' | 'two') => { const { body, header, bin } = MARKERS[tag]; return { body, header, bin }; };
        const binary = markedBinary;
        const writeMarked = async (page: EnginePage, tag: 'one' | 'two') => {
          const { body, header, bin } = marked(tag);
          assert.equal((await write(page, 'POST', '/api/notes', { note: body }, { 'X-Note': header })).status, 202);
          assert.equal(await page.run(`return (await fetch('/api/files', { method: 'PUT', body: new Uint8Array(${JSON.stringify(binary(bin))}), headers: { 'Content-Type': 'application/octet-stream' } })).status;`), 202);
        };
        const all = [...Object.values(marked('one')), ...Object.values(marked('two'))];
        try {
          let browser = await engine.launch({ profile });
          try {
            const page = await openApp(browser, server, options);
            await page.run("document.cookie = 'session=ana; path=/; max-age=3600'; await window.outbox.signIn('ana'); return true;");
            await until(() => page.run<number>("return (await (await caches.open('sw-outbox-shell')).keys()).length;"), 2, 'the shell cached');
            if (encrypted) await until(() => page.run<string>(`return ${STORED_STRINGS};`).then((stored) => stored.includes('publicKey')), true, 'the device key');
            await server.stop();
            await writeMarked(page, 'one');
            const stored = await page.run<string>(`return ${STORED_STRINGS};`);
            assert.ok(stored.includes('/api/notes'), 'the metadata is readable');
            for (const marker of Object.values(marked('one'))) assert.equal(stored.includes(marker), !encrypted, `${marker} in IndexedDB`);
          } finally {
            await browser.close();
          }
          const onDisk = await filesContaining(profile, Object.values(marked('one')));
          if (!encrypted) {
            for (const marker of Object.values(marked('one'))) assert.ok(onDisk.some((found) => found.startsWith(`${marker} in `)), `${marker} on disk: ${onDisk.join(', ')}`);
            return;
          }
          assert.deepEqual(onDisk, []);

          // The browser starts again with the server still down; the app opens from its cached shell and takes more writes.
          browser = await engine.launch({ profile });
          try {
            const page = await openApp(browser, server, options);
            await writeMarked(page, 'two');
            assert.equal((await snapshot(page)).counts.pending, 4);
            const stored = await page.run<string>(`return ${STORED_STRINGS};`);
            for (const marker of all) assert.ok(!stored.includes(marker), `${marker} in IndexedDB`);
          } finally {
            await browser.close();
          }
          assert.deepEqual(await filesContaining(profile, all), []);
          assert.equal(server.commits.length, 0);

          await server.listen();
          browser = await engine.launch({ profile });
          try {
            const page = await openApp(browser, server, options);
            await page.run('await window.outbox.replay(); return true;');
            // WebKitGTK's test browser keeps no cookie across a restart: its writes wait, as
            // needs-auth, for the person to sign in again, as any app's would.
            if (server.commits.length === 0) await page.run("document.cookie = 'session=ana; path=/; max-age=3600'; await window.outbox.credentialsChanged(); return true;");
            await server.waitForCommits(4);
            assert.deepEqual(server.commits.map((commit) => commit.bytes), [
              Buffer.from(JSON.stringify({ note: marked('one').body })),
              Buffer.from(binary(marked('one').bin)),
              Buffer.from(JSON.stringify({ note: marked('two').body })),
              Buffer.from(binary(marked('two').bin)),
            ]);
            assert.deepEqual(server.arrivals.filter((arrival) => arrival.path === '/api/notes').map((arrival) => arrival.headers['x-note']), [marked('one').header, marked('two').header]);
            assert.equal(server.arrivals.length, 4);
          } finally {
            await browser.close();
          }
        } finally {
          await server.stop();
          await rm(profile, { recursive: true, force: true });
        }
      });
    }
  });
}
