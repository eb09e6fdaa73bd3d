import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TodoApi } from '../../support/todo-api.js';
import { APPLIED_TO_LIST, APPS, OFFLINE_STEPS, ON_SCREEN, ONLINE_STEPS, oneLine, OTHER_DEVICE, PATHS_WRITTEN, REGISTER, THE_END } from '../../support/todo-scenario.js';
import type { Engine, EnginePage } from './engine.js';

/** Resolves once `read()` gives `expected`; nothing in these pages says when, so it asks every 100 ms. */
async function until<T>(read: () => Promise<T>, expected: T, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const actual = await read();
    try {
      assert.deepEqual(actual, expected);
      return;
    } catch {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(actual)}, wanted ${JSON.stringify(expected)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const steps = async (page: EnginePage, list: string[][]) => {
  for (const [name, ...args] of list) await page.run(`await window.app[${JSON.stringify(name)}](...${JSON.stringify(args)}); return true;`);
};
const titles = (page: EnginePage) => page.run<[string, boolean][]>('return window.app.titles();');
const cachedTitles = (page: EnginePage) =>
  page.run<string[] | null>("const cached = await (await caches.open('sw-outbox-reads')).match('/todos'); return cached ? (await cached.json()).map((todo) => todo.title) : null;");

/**
 * The real-apps day of test/e2e/rest-apps.spec.ts in an engine without Background Sync,
 * where the outage is the server's (these engines' offline modes do not reach the worker):
 * it stops, and the outbox's own timers replay once it is back.
 */
export function defineRestAppCases(engine: Engine): void {
  describe(`${engine.name}: real REST apps whose server makes the ids`, () => {
    for (const [name, path] of APPS) {
      test(`${name}: a day with the server down, a reload while it is, then back: the server ends with what the person did`, { timeout: 90_000 }, async () => {
        const api = await TodoApi.start();
        // On a profile, so that the reloaded page shares the first one's worker and caches.
        const profile = await mkdtemp(join(tmpdir(), 'sw-outbox-profile-'));
        const browser = await engine.launch({ profile });
        try {
          for (const title of OTHER_DEVICE) {
            const response = await fetch(`${api.url}/todos`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ title }) });
            assert.equal(response.status, 201);
          }
          const line = oneLine('&retryBaseMs=200&retryMaxMs=1000');
          const page = await browser.open(`${api.url}${path}`);
          await page.run(`const line = ${JSON.stringify(line)}; ${REGISTER} await window.appReady; return true;`);
          await steps(page, ONLINE_STEPS);
          await until(() => cachedTitles(page), [...OTHER_DEVICE, 'bread', 'butter'], 'the list cached and refreshed');
          await until(() => page.run<number>("return (await (await caches.open('sw-outbox-shell')).keys()).length;"), 5, 'the shell cached');

          await api.stop();
          await steps(page, OFFLINE_STEPS);
          assert.deepEqual(await titles(page), ON_SCREEN);

          const again = await browser.open(`${api.url}${path}`);
          await again.run('await window.appReady; return true;');
          assert.deepEqual(await titles(again), ON_SCREEN, 'reopened while the server is down: the cached list with every waiting write');
          const read = await again.run<{ cache: string | null; applied: string | null }>("const response = await fetch('/todos'); return { cache: response.headers.get('Outbox-From-Cache'), applied: response.headers.get('Outbox-Applied') };");
          assert.deepEqual(read, { cache: '?1', applied: APPLIED_TO_LIST });

          await api.listen();
          await until(async () => api.state(), THE_END, 'the server to hold what the person did', 30_000);
          const mine = api.writes.slice(OTHER_DEVICE.length);
          assert.ok(mine.every((write) => write.key !== undefined));
          assert.equal(new Set(mine.map((write) => write.key)).size, mine.length);
          assert.deepEqual(mine.map((write) => write.line.replace(/^\w+ /, '')), PATHS_WRITTEN);
        } finally {
          await browser.close();
          await api.close();
          await rm(profile, { recursive: true, force: true });
        }
      });
    }
  });
}
