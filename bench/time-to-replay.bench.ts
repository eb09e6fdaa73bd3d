/**
 * Time to replay: writes made while the server is down, then the server comes back while
 * the page stays open and idle. Measures, per engine, the time from the server's return to
 * the last queued write committed, beside the delay the outbox had scheduled for its next
 * attempt: the two agree when the replay waits for nothing but its own backoff (no worker
 * restart, no page load, no Background Sync). Default options. Prints figures; passes or
 * fails nothing. Run: npm run bench:replay (BENCH_ROUNDS, BENCH_OUTAGE_MS to change it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusMessage } from '../client/index.js';
import { chromium } from '../test/engines/support/chromium.js';
import type { Engine } from '../test/engines/support/engine.js';
import { firefox } from '../test/engines/support/firefox.js';
import { webkit } from '../test/engines/support/webkit.js';
import { TestServer } from '../test/support/test-server.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const OUTAGE_MS = Number(process.env.BENCH_OUTAGE_MS ?? 10_000);
const WRITES = 5;

interface Round {
  /** Server back to last commit. */
  replayMs: number;
  /** Server back to the attempt the outbox had scheduled last before it came back. */
  scheduledMs: number;
}

async function round(engine: Engine): Promise<Round & { version: string }> {
  const server = await TestServer.start();
  const browser = await engine.launch();
  try {
    const page = await browser.open(`${server.url}/`);
    await page.run('await window.outboxReady; return true;');
    await server.stop();
    for (let i = 1; i <= WRITES; i++) await page.run(`return window.write('POST', '/api/items', { i: ${i} });`);
    await sleep(OUTAGE_MS); // the outage itself, during which the outbox retries on its own
    await server.listen();
    const back = Date.now();
    await server.waitForCommits(WRITES, 120_000);
    const replayMs = Date.now() - back;
    const log = await page.run<StatusMessage[]>('return window.statusLog;');
    const scheduled = log.filter((m) => m.type === 'retry-scheduled' && m.at < back).at(-1);
    if (!scheduled || scheduled.type !== 'retry-scheduled') throw new Error(`${engine.name}: no retry was scheduled during the outage`);
    return { replayMs, scheduledMs: scheduled.retryAt - back, version: browser.version };
  } finally {
    await browser.close();
    await server.stop();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

console.log(`time to replay: ${WRITES} writes queued during a ${s(OUTAGE_MS)} outage (connections refused), page open and idle, default options; ${ROUNDS} rounds per engine`);
console.log('engine                      server back -> last commit (median, max)   next attempt was due in (median)   worst gap');
for (const engine of [chromium, firefox, webkit]) {
  const rounds: Round[] = [];
  let version = '';
  for (let r = 0; r < ROUNDS; r++) {
    const result = await round(engine);
    rounds.push(result);
    version = result.version;
  }
  const replay = rounds.map((r) => r.replayMs);
  const gap = Math.max(...rounds.map((r) => r.replayMs - Math.max(0, r.scheduledMs)));
  console.log(
    `${version.padEnd(28)}${`${s(median(replay))}, ${s(Math.max(...replay))}`.padEnd(44)}${s(median(rounds.map((r) => r.scheduledMs))).padEnd(35)}${gap} ms`,
  );
}
