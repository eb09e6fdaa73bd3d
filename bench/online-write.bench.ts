/**
 * What the outbox costs the online path. The same page makes the same writes to the same
 * local server, with no worker (the baseline) and through the outbox, in alternating
 * rounds of one run so that machine noise falls on both alike. Prints figures; passes or
 * fails nothing. Run: npm run bench (BENCH_WRITES and BENCH_ROUNDS to change the sizes).
 */
import { chromium, type Browser } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { TestServer } from '../test/support/test-server.js';
import config from '../playwright.config.js';

const WRITES = Number(process.env.BENCH_WRITES ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PARALLEL = 10;

interface Round {
  sequential: number[];
  parallel: number;
}

async function round(browser: Browser, server: TestServer, sw: 'none' | '/outbox-sw.js'): Promise<Round> {
  const context = await browser.newContext();
  // tsx keeps function names by wrapping functions in __name(), which pages lack.
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  const page = await context.newPage();
  await page.goto(`${server.url}/?sw=${encodeURIComponent(sw)}`);
  await page.evaluate(() => window.outboxReady);
  return page.evaluate(
    async ({ writes, parallel }) => {
      const post = (i: number) =>
        fetch('/api/bench', { method: 'POST', body: JSON.stringify({ i, at: performance.now() }), headers: { 'Content-Type': 'application/json' } }).then((r) => r.text());
      for (let i = 0; i < 5; i++) await post(-1); // warm up the worker and the connection path
      const sequential: number[] = [];
      for (let i = 0; i < writes; i++) {
        const start = performance.now();
        await post(i);
        sequential.push(performance.now() - start);
      }
      const start = performance.now();
      await Promise.all(Array.from({ length: parallel }, (_, i) => post(i)));
      return { sequential, parallel: performance.now() - start };
    },
    { writes: WRITES, parallel: PARALLEL },
  ).finally(() => context.close());
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;

const launchOptions = config.use?.launchOptions ?? {};
if (!launchOptions.executablePath && !existsSync('/usr/bin/chromium')) console.warn('no Chromium at /usr/bin/chromium: set CHROMIUM_PATH');
const browser = await chromium.launch(launchOptions);
const server = await TestServer.start();
const results = { baseline: [] as Round[], outbox: [] as Round[] };
try {
  for (let r = 0; r < ROUNDS; r++) {
    results.baseline.push(await round(browser, server, 'none'));
    results.outbox.push(await round(browser, server, '/outbox-sw.js'));
  }
} finally {
  await browser.close();
  await server.stop();
}

console.log(`online writes: ${ROUNDS} rounds x ${WRITES} sequential POSTs, then ${PARALLEL} at once; Chromium, loopback server`);
console.log('                      median      p95         10 parallel (median of rounds)');
const summary: Record<string, { median: number; p95: number; parallel: number }> = {};
for (const [name, rounds] of Object.entries(results)) {
  const all = rounds.flatMap((r) => r.sequential);
  summary[name] = { median: quantile(all, 0.5), p95: quantile(all, 0.95), parallel: quantile(rounds.map((r) => r.parallel), 0.5) };
  const s = summary[name]!;
  console.log(`${name.padEnd(22)}${ms(s.median).padEnd(12)}${ms(s.p95).padEnd(12)}${ms(s.parallel)}`);
}
const { baseline, outbox } = summary as Record<'baseline' | 'outbox', (typeof summary)[string]>;
console.log(`outbox cost per write: median +${ms(outbox.median - baseline.median)}, p95 +${ms(outbox.p95 - baseline.p95)}; 10 parallel +${ms(outbox.parallel - baseline.parallel)}`);

for (const file of ['dist/outbox-sw.js', 'dist/client/index.js']) {
  const bytes = readFileSync(file);
  console.log(`${file}: ${(bytes.length / 1024).toFixed(1)} KiB, ${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped`);
}
