/**
 * What the outbox costs, beside what a page costs with no worker, with a worker that only
 * passes writes through, and with Workbox's background sync (NetworkOnly and
 * BackgroundSyncPlugin), all measured in one run of headless Chromium against one
 * loopback server. Prints figures; passes or fails nothing.
 *
 *   npm run bench                     everything (about 10 minutes on the 2-core machine)
 *   BENCH_ROUNDS=3 BENCH_WRITES=100   online rounds, and sequential writes per round
 *   BENCH_DRAIN=1000                  writes queued offline, then drained
 *   BENCH_BURSTS=500                  writes queued offline in bursts of 10 at once
 *   BENCH_SCALE=10000 BENCH_SCALE_KB=10   the scale run
 *   BENCH_IDENTITIES=200              creates kept offline, plain and with provisional identities, and reads over them
 * A size of 0 skips its section (BENCH_ROUNDS=0, BENCH_DRAIN=0, BENCH_BURSTS=0, BENCH_SCALE=0, BENCH_IDENTITIES=0).
 */
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import config from '../playwright.config.js';
import { DeviceKeys } from '../server/device-keys.js';
import { FEATURE_FILES } from '../sw/features.js';
import { TestServer } from '../test/support/test-server.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WRITES = Number(process.env.BENCH_WRITES ?? 100);
const DRAIN = Number(process.env.BENCH_DRAIN ?? 1000);
const BURSTS = Number(process.env.BENCH_BURSTS ?? 500);
const SCALE = Number(process.env.BENCH_SCALE ?? 10_000);
const SCALE_KB = Number(process.env.BENCH_SCALE_KB ?? 10);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 200);
const ROOT = new URL('..', import.meta.url).pathname;

type Arm = 'no worker' | 'pass-through' | 'Workbox 7.4' | 'sw-outbox' | 'sw-outbox, encrypted';
const WORKERS: Record<Arm, string | null> = {
  'no worker': null,
  'pass-through': '/passthrough-sw.js',
  'Workbox 7.4': '/workbox-sw.js',
  'sw-outbox': '/outbox-sw.js',
  // Encryption at rest: each write sealed to the device key of the session's user (decision 0021).
  'sw-outbox, encrypted': '/outbox-sw.js?encryptionKeyPath=/outbox-key',
};

async function buildWorkbox(): Promise<string> {
  const dir = join(ROOT, 'node_modules/.cache/bench');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'workbox-sw.js');
  await build({ entryPoints: [join(ROOT, 'bench/workers/workbox-sw.ts')], outfile, bundle: true, minify: true, format: 'iife', define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'warning' });
  return outfile;
}

/** A fresh profile with the arm's worker in control of a page of the app. */
async function open(browser: Browser, server: TestServer, arm: Arm): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  // Every arm signed in alike: the encrypted arm's key is its user's.
  await context.addCookies([{ name: 'session', value: 'bench', url: server.url }]);
  return controlled(context, server, WORKERS[arm]);
}

/** A page of the app in `context`, with `worker` (a script URL; null: none) in control of it. */
async function controlled(context: BrowserContext, server: TestServer, worker: string | null): Promise<{ context: BrowserContext; page: Page }> {
  // tsx keeps function names by wrapping functions in __name(), which pages lack.
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  const page = await context.newPage();
  await page.goto(`${server.url}/?sw=none`);
  if (worker) {
    await page.evaluate(async (url) => {
      await navigator.serviceWorker.register(url);
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    }, worker);
  }
  return { context, page };
}

interface OnlineRound {
  sequential: number[];
  oneLane: number;
  fourLanes: number;
}

/** One POST from the page, timed from fetch() to its body read. */
function timedWrite(page: Page, i: number): Promise<number> {
  return page.evaluate(async (i) => {
    const start = performance.now();
    await fetch('/api/bench', { method: 'POST', body: JSON.stringify({ i }), headers: { 'Content-Type': 'application/json' } }).then((r) => r.text());
    return performance.now() - start;
  }, i);
}

/** Ten POSTs at once, in one lane or spread over four; the time until the last answer. */
function burst(page: Page, lanes: number): Promise<number> {
  return page.evaluate(async (lanes) => {
    const post = (i: number) =>
      fetch('/api/bench', { method: 'POST', body: JSON.stringify({ i }), headers: { 'Content-Type': 'application/json', ...(lanes > 1 ? { 'Outbox-Lane': `lane-${i % lanes}` } : {}) } }).then((r) => r.text());
    const start = performance.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => post(i)));
    return performance.now() - start;
  }, lanes);
}

/**
 * One round: every arm's page open at once, its worker warm, then the sequential writes
 * taken in turn, arm after arm, so that a slow moment of the machine falls on every arm
 * alike; then each arm's bursts.
 */
async function onlineRound(browser: Browser, server: TestServer, arms: Arm[]): Promise<Map<Arm, OnlineRound>> {
  const opened = await Promise.all(arms.map((arm) => open(browser, server, arm)));
  for (const { page } of opened) for (let i = 0; i < 5; i++) await timedWrite(page, -1); // the worker and the connection warm
  const rounds = new Map<Arm, OnlineRound>(arms.map((arm) => [arm, { sequential: [], oneLane: 0, fourLanes: 0 }]));
  for (let i = 0; i < WRITES; i++) for (const [a, arm] of arms.entries()) rounds.get(arm)!.sequential.push(await timedWrite(opened[a]!.page, i));
  for (const [a, arm] of arms.entries()) Object.assign(rounds.get(arm)!, { oneLane: await burst(opened[a]!.page, 1), fourLanes: await burst(opened[a]!.page, 4) });
  await Promise.all(opened.map(({ context }) => context.close()));
  return rounds;
}

/** Writes made while offline, one after another or `burst` at once; resolves with writes per second. */
function enqueue(page: Page, count: number, { lanes = 1, bodyBytes = 40, burst = 1 } = {}): Promise<number> {
  return page.evaluate(
    async ({ count, lanes, bodyBytes, burst }) => {
      const filler = 'x'.repeat(Math.max(0, bodyBytes - 20));
      const post = (i: number) => {
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        if (lanes > 1) headers['Outbox-Lane'] = `lane-${i % lanes}`;
        // Workbox's page gets a network error for a kept write; sw-outbox's gets 202.
        return fetch('/api/queued', { method: 'POST', body: JSON.stringify({ i, filler }), headers }).then((r) => r.text(), () => '');
      };
      const start = performance.now();
      for (let i = 0; i < count; i += burst) await Promise.all(Array.from({ length: Math.min(burst, count - i) }, (_, j) => post(i + j)));
      return count / ((performance.now() - start) / 1000);
    },
    { count, lanes, bodyBytes, burst },
  );
}

/** 2b. Offline writes made ten at once (a form's rows saved together, a list synced): each arm's enqueue rate. */
async function bursts(browser: Browser, server: TestServer): Promise<void> {
  const count = BURSTS;
  console.log(`\n${count} writes made offline in bursts of 10 at once`);
  for (const arm of ['Workbox 7.4', 'sw-outbox', 'sw-outbox, encrypted'] as const) {
    process.stderr.write(`  bursts, ${arm}\n`);
    const { context, page } = await open(browser, server, arm);
    for (let i = 0; i < 2; i++) await timedWrite(page, -1); // the encrypted arm's device key
    await context.setOffline(true);
    console.log(row([arm, `${(await enqueue(page, count, { burst: 10 })).toFixed(0)} writes/s`], [40, 14]));
    await context.close();
  }
}

/** The JS heap in bytes of `page`'s service worker, after a garbage collection, over the DevTools protocol. */
async function workerHeap(page: Page): Promise<number> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  try {
    const { targetInfo } = await cdp.send('Target.getTargetInfo');
    // Workers of profiles closed earlier may still be listed: take this profile's.
    const { targetInfos } = await cdp.send('Target.getTargets');
    const target = targetInfos.find((info) => info.type === 'service_worker' && info.browserContextId === targetInfo.browserContextId);
    if (!target) throw new Error('no service worker is running');
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
    let id = 0;
    const call = (method: string) =>
      new Promise<{ result?: { usedSize: number } }>((resolve, reject) => {
        const mine = ++id;
        const timer = setTimeout(() => reject(new Error(`no answer to ${method} from the worker`)), 10_000);
        const listener = (event: { message: string }) => {
          const message = JSON.parse(event.message) as { id: number; result?: { usedSize: number } };
          if (message.id !== mine) return;
          clearTimeout(timer);
          cdp.off('Target.receivedMessageFromTarget', listener);
          resolve(message);
        };
        cdp.on('Target.receivedMessageFromTarget', listener);
        void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: mine, method }) });
      });
    await call('HeapProfiler.collectGarbage');
    return (await call('Runtime.getHeapUsage')).result?.usedSize ?? NaN;
  } finally {
    await cdp.detach();
  }
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
const median = (values: number[]) => quantile(values, 0.5);
const ms = (value: number) => `${value.toFixed(2)} ms`;
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)} ms`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const row = (cells: string[], widths: number[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 12)).join('');

/** 1. The online path: a new profile for every arm each round, the arms' writes taken in turn. */
async function onlinePath(browser: Browser, server: TestServer): Promise<void> {
  const online = new Map<Arm, OnlineRound[]>();
  const arms = Object.keys(WORKERS) as Arm[];
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`  online round ${r + 1}\n`);
    // Which arm goes first turns each round.
    for (const [arm, round] of await onlineRound(browser, server, [...arms.slice(r % arms.length), ...arms.slice(0, r % arms.length)])) online.set(arm, [...(online.get(arm) ?? []), round]);
  }
  console.log(`Chromium ${browser.version()}, loopback server; ${ROUNDS} rounds of ${WRITES} sequential POSTs per arm, taken in turn across the arms, then 10 at once in one lane and in four\n`);
  const widths = [22, 12, 12, 12, 12, 16, 16];
  console.log(row(['online write', 'median', 'p95', '+median', '+p95', '10 at once, 1', '10 at once, 4'], widths));
  const base = online.get('no worker')!.flatMap((round) => round.sequential);
  for (const arm of arms) {
    const rounds = online.get(arm)!;
    const all = rounds.flatMap((round) => round.sequential);
    console.log(
      row([arm, ms(median(all)), ms(quantile(all, 0.95)), signed(median(all) - median(base)), signed(quantile(all, 0.95) - quantile(base, 0.95)), ms(median(rounds.map((x) => x.oneLane))), ms(median(rounds.map((x) => x.fourLanes)))], widths),
    );
  }
}

/** 2. Offline enqueue, then the drain once the network is back (each arm's own sync event). */
async function drains(browser: Browser, server: TestServer): Promise<void> {
  console.log(`\n${DRAIN} writes made one after another offline, then drained once back online (each arm's own sync event)`);
  const widths = [40, 14, 12, 16];
  console.log(row(['', 'enqueue', 'drain', 'drain per write'], widths));
  // On loopback the drain is bound by the 2 cores; with a network's round trip (20 ms
  // here), by how many requests are out at once.
  const runs: [Arm, number, number][] = [['Workbox 7.4', 1, 0], ['sw-outbox', 1, 0], ['sw-outbox', 4, 0], ['sw-outbox', 6, 0], ['sw-outbox, encrypted', 1, 0], ['Workbox 7.4', 1, 20], ['sw-outbox', 1, 20], ['sw-outbox', 4, 20], ['sw-outbox', 6, 20]];
  for (const [arm, lanes, latencyMs] of runs) {
    server.latencyMs = latencyMs;
    const count = latencyMs > 0 ? Math.min(DRAIN, 200) : DRAIN;
    process.stderr.write(`  drain, ${arm}, ${lanes} lane(s), ${latencyMs} ms\n`);
    const { context, page } = await open(browser, server, arm);
    // Two writes online first, as a person's day begins: the encrypted arm's device key is
    // fetched with the first (a write that cannot be sealed is never kept).
    for (let i = 0; i < 2; i++) await timedWrite(page, -1);
    await context.setOffline(true);
    const rate = await enqueue(page, count, { lanes });
    const before = server.arrivals.length;
    const start = Date.now();
    await context.setOffline(false);
    await server.waitFor(() => server.arrivals.length - before >= count, `${arm}'s drain`, 600_000);
    const drainMs = Date.now() - start;
    const name = `${arm}${arm.startsWith('sw-outbox') ? `, ${lanes} lane${lanes > 1 ? 's' : ''}` : ''}${latencyMs > 0 ? `, ${count} at ${latencyMs} ms RTT` : ''}`;
    console.log(row([name, latencyMs > 0 ? '' : `${rate.toFixed(0)} writes/s`, `${(drainMs / 1000).toFixed(2)} s`, ms(drainMs / count)], widths));
    await context.close();
  }
  server.latencyMs = 0;
}

/**
 * 3. Scale: a long offline stretch of large writes, kept on a profile on disk. The
 * worker's heap with them waiting (it must not hold their bodies); then the browser is
 * closed and started again online, as a device is the next morning: from the page's
 * load to the first send, the heap of the worker that started with them all waiting,
 * and the drain.
 */
async function scale(server: TestServer): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'sw-outbox-bench-'));
  const launch = () => chromium.launchPersistentContext(profile, { ...config.use?.launchOptions });
  try {
    const { context, page } = await controlled(await launch(), server, WORKERS['sw-outbox']);
    const emptyHeap = await workerHeap(page);
    await context.setOffline(true);
    const rate = await enqueue(page, SCALE, { bodyBytes: SCALE_KB * 1024 });
    const heap = await workerHeap(page);
    await context.close();

    const before = server.arrivals.length;
    const arrivalsAt: number[] = [];
    server.onArrival = () => arrivalsAt.push(Date.now());
    const restarted = await launch();
    const start = Date.now();
    const again = await restarted.newPage();
    await again.goto(`${server.url}/?sw=none`); // starts the worker: it sends what waits
    await server.waitFor(() => server.arrivals.length > before, 'the first send', 60_000);
    const firstSend = arrivalsAt[0]! - start;
    const heapAfterStart = await workerHeap(again);
    await server.waitFor(() => server.arrivals.length - before >= SCALE, 'the scale drain', 900_000);
    server.onArrival = undefined;
    await restarted.close();
    const perWrite = (from: number, to: number) => (arrivalsAt[to]! - arrivalsAt[from]!) / (to - from);
    console.log(`\nscale: ${SCALE} writes of ${SCALE_KB} KiB queued offline (${mib(SCALE * SCALE_KB * 1024)} of bodies) at ${rate.toFixed(0)} writes/s; the browser closed, then started again online`);
    console.log(`  worker JS heap: ${mib(emptyHeap)} with an empty outbox; ${mib(heap)} with ${SCALE} writes waiting; ${mib(heapAfterStart)} in the worker started with them waiting`);
    console.log(`  restarted browser, page load to first send: ${firstSend} ms`);
    console.log(`  drain per write: first 100 ${ms(perWrite(0, 100))}, last 100 ${ms(perWrite(SCALE - 101, SCALE - 1))}; all ${ms((arrivalsAt.at(-1)! - start) / SCALE)}`);
  } finally {
    server.onArrival = undefined;
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * 4. Apps whose server makes the ids (decisions 0022, 0023): creates kept offline, answered
 * 202 (plain) or 201 with a provisional identity (`collections`); then the median of 20
 * reads of the collection from the cache, with none and with all of them waiting (each
 * read gets them applied).
 */
async function identities(browser: Browser, server: TestServer): Promise<void> {
  console.log(`\n${IDENTITIES} creates (POST /api/items) kept offline, then reads of GET /api/items from the cache`);
  const widths = [34, 16, 20, 20];
  console.log(row(['', 'enqueue', 'read, none waiting', `read, ${IDENTITIES} waiting`], widths));
  const reads = (page: Page) =>
    page.evaluate(async () => {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const start = performance.now();
        await fetch('/api/items').then((response) => response.text());
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[10]!;
    });
  for (const [name, url] of [
    ['sw-outbox, reads', '/outbox-sw.js?reads=/api/items'],
    ['sw-outbox, reads and collections', '/outbox-sw.js?reads=/api/items&collections=/api/items'],
  ] as const) {
    process.stderr.write(`  identities, ${name}\n`);
    const { context, page } = await controlled(await browser.newContext(), server, url);
    await page.evaluate(() => fetch('/api/items').then((response) => response.text())); // cached as it passes
    await context.setOffline(true);
    const none = await reads(page);
    const rate = await page.evaluate(async (count) => {
      const start = performance.now();
      for (let i = 0; i < count; i++) await fetch('/api/items', { method: 'POST', body: JSON.stringify({ i }), headers: { 'Content-Type': 'application/json' } }).then((r) => r.text());
      return count / ((performance.now() - start) / 1000);
    }, IDENTITIES);
    const waiting = await reads(page);
    console.log(row([name, `${rate.toFixed(0)} writes/s`, ms(none), ms(waiting)], widths));
    await context.close();
  }
}

const browser = await chromium.launch(config.use?.launchOptions ?? {});
const server = await TestServer.start();
server.requireKey = false; // Workbox and the baselines send no key: every arm's writes are applied alike
server.keys = new DeviceKeys();
server.files.set('/passthrough-sw.js', join(ROOT, 'bench/workers/passthrough-sw.js'));
server.files.set('/workbox-sw.js', await buildWorkbox());
try {
  if (ROUNDS > 0) await onlinePath(browser, server);
  if (DRAIN > 0) await drains(browser, server);
  if (BURSTS > 0) await bursts(browser, server);
  if (SCALE > 0) await scale(server);
  if (IDENTITIES > 0) await identities(browser, server);
} finally {
  await browser.close();
  await server.stop();
}

// The drop-in whole and split (a core, and one file per feature, loaded when an option asks
// for it: sw/features.ts), the page's files, and the Workbox worker of the Workbox arm.
console.log('\nsize');
const SPLIT = ['outbox-sw.js', ...Object.values(FEATURE_FILES).map(({ file }) => file)].map((file) => `dist/outbox-sw/${file}`);
const sized = (file: string) => {
  const bytes = readFileSync(file.startsWith('/') ? file : join(ROOT, file));
  return { raw: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
};
const sizeRow = (label: string, { raw, gzipped }: { raw: number; gzipped: number }) => console.log(`  ${label.padEnd(44)}${kib(raw).padEnd(12)}${kib(gzipped)} gzipped`);
for (const file of ['dist/outbox-sw.js', 'dist/outbox-sw.min.js', ...SPLIT, 'dist/client/index.js', 'dist/outbox-register.js']) sizeRow(file, sized(file));
const split = SPLIT.map(sized);
sizeRow('dist/outbox-sw/, core and every feature', { raw: split.reduce((sum, size) => sum + size.raw, 0), gzipped: split.reduce((sum, size) => sum + size.gzipped, 0) });
sizeRow('Workbox 7.4 (bench/workers/workbox-sw.ts)', sized(server.files.get('/workbox-sw.js')!));
