import { test as base, expect, type Page } from '@playwright/test';
import { TodoApi } from '../support/todo-api.js';
import { checkTodoBackendPromises } from '../support/todo-backend-promises.js';
import { APPLIED_TO_LIST, APPS, OFFLINE_STEPS, ON_SCREEN, ONLINE_STEPS, oneLine, OTHER_DEVICE, PATHS_WRITTEN, REGISTER, THE_END } from '../support/todo-scenario.js';
import { goOnline } from '../support/online.js';

/**
 * Real REST apps whose server makes the ids, unchanged but for the one registration line
 * (decisions 0022, 0023): Backbone models with `idAttribute: 'id'` and `'url'`, and a
 * hand-written fetch() store. What the person does offline must be what the server ends
 * with, record for record, with another device's records, whose ids the outbox's entry
 * numbers share, untouched. test/engines runs the same day in Firefox and WebKit.
 */
const test = base.extend<{ api: TodoApi }>({
  api: async ({}, use) => {
    const api = await TodoApi.start();
    await use(api);
    await api.close();
  },
});

declare global {
  interface Window {
    app: Record<string, (...args: string[]) => Promise<void>> & { titles(): [string, boolean][] };
    appReady: Promise<void>;
  }
}

async function openApp(page: Page, api: TodoApi, path: string): Promise<void> {
  await page.goto(`${api.url}${path}`);
  // The one line a site adds, and a wait until its worker controls the page.
  await page.evaluate(`(async (line) => { ${REGISTER} })(${JSON.stringify(oneLine())})`);
  await page.evaluate(() => window.appReady);
}

const steps = async (page: Page, list: string[][]) => {
  for (const [name, ...args] of list) await page.evaluate(([n, a]) => window.app[n!]!(...a), [name, args] as const);
};

/** The todos in the worker's cached GET /todos, as titles. */
const cachedTitles = (page: Page) =>
  page.evaluate(async () => {
    const cached = await (await caches.open('sw-outbox-reads')).match('/todos');
    return cached ? ((await cached.json()) as { title: string }[]).map((todo) => todo.title) : null;
  });

async function anotherDeviceAdds(api: TodoApi, title: string): Promise<void> {
  // No worker, no key: the middleware's defaults process it as they would without it.
  const response = await fetch(`${api.url}/todos`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ title }) });
  expect(response.status).toBe(201);
}

for (const [name, path] of APPS) {
  test(`${name}: a day of edits offline, online-made and offline-made records, a child under a new one, a reload offline: the server ends with what the person did, nothing on another device's records`, async ({ context, api }) => {
    for (const title of OTHER_DEVICE) await anotherDeviceAdds(api, title);
    const page = await context.newPage();
    await openApp(page, api, path);
    await steps(page, ONLINE_STEPS);
    // The list read before the worker took control was cached when it did (a first visit),
    // and each delivered create refreshed it.
    await expect.poll(() => cachedTitles(page)).toEqual([...OTHER_DEVICE, 'bread', 'butter']);

    await context.setOffline(true);
    await steps(page, OFFLINE_STEPS);
    expect(await page.evaluate(() => window.app.titles())).toEqual(ON_SCREEN);
    expect(api.todos.size).toBe(4); // nothing reached the server while offline

    // Reloaded offline: the app opens from its shell and its list from the cache, with every
    // waiting write applied, and the answer says so.
    await page.reload();
    await page.evaluate(() => window.appReady);
    expect(await page.evaluate(() => window.app.titles())).toEqual(ON_SCREEN);
    const read = await page.evaluate(async () => {
      const response = await fetch('/todos');
      return { cache: response.headers.get('Outbox-From-Cache'), applied: response.headers.get('Outbox-Applied'), age: response.headers.get('Age') };
    });
    expect(read).toEqual({ cache: '?1', applied: APPLIED_TO_LIST, age: expect.stringMatching(/^\d+$/) });
    if (path.endsWith('idAttribute=url')) {
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 800 });
        await page.screenshot({ path: test.info().outputPath(`offline-reload-${width}.png`) });
      }
    }

    await goOnline(context);
    await expect.poll(() => api.state()).toEqual(THE_END);
    // Each of this device's writes arrived once, with a key, at a real URL.
    const mine = api.writes.slice(OTHER_DEVICE.length);
    expect(mine.every((write) => write.key !== undefined)).toBe(true);
    expect(new Set(mine.map((write) => write.key)).size).toBe(mine.length);
    expect(mine.map((write) => write.line.replace(/^\w+ /, ''))).toEqual(PATHS_WRITTEN);
  });
}

test('the Todo-Backend promises hold through the worker, in front of the middleware with its defaults: every write with a key', async ({ context, api }) => {
  const page = await context.newPage();
  await openApp(page, api, '/fetch.html');
  const results = await page.evaluate(checkTodoBackendPromises, `${api.url}/todos`);
  expect(results.filter((result) => !result.held)).toEqual([]);
  expect(results).toHaveLength(16);
  expect(api.writes.length).toBeGreaterThan(16);
  expect(api.writes.filter((write) => write.key === undefined)).toEqual([]);
});

test('two devices, each with the outbox, offline at once: their entry numbers are the same and the server ids collide with them, yet each write reaches its own record', async ({ browser, api }) => {
  const devices = await Promise.all([browser.newContext(), browser.newContext()]);
  try {
    const [a, b] = await Promise.all(devices.map((device) => device.newPage()));
    await openApp(a!, api, '/backbone.html?idAttribute=id');
    await openApp(b!, api, '/backbone.html?idAttribute=id');
    // Each device makes one record online: server ids 1 and 2, the outbox entries 1 on each.
    await steps(a!, [['add', 'A: online']]);
    await steps(b!, [['add', 'B: online']]);
    await Promise.all(devices.map((device) => device.setOffline(true)));
    await steps(a!, [['add', 'A: offline'], ['toggle', 'A: offline'], ['rename', 'A: online', 'A: renamed']]);
    await steps(b!, [['add', 'B: offline'], ['toggle', 'B: offline'], ['remove', 'B: online']]);
    await Promise.all(devices.map(goOnline));
    // The two devices' writes arrive in no promised order between them: the records, by title.
    await expect
      .poll(() => api.state().sort((x, y) => x.title.localeCompare(y.title)))
      .toEqual([
        { title: 'A: offline', completed: true, notes: [] },
        { title: 'A: renamed', completed: false, notes: [] },
        { title: 'B: offline', completed: true, notes: [] },
      ]);
  } finally {
    await Promise.all(devices.map((device) => device.close()));
  }
});
