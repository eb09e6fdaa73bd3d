import { test as base, expect, type Page } from '@playwright/test';
import { TodoApi } from '../support/todo-api.js';

/**
 * Real REST apps whose server makes the ids, unchanged but for the one registration line
 * (decision 0022): Backbone models with `idAttribute: 'id'` and `'url'`, and a hand-written
 * fetch() store. What the person does offline must be what the server ends with, record
 * for record, with another device's records, whose ids the outbox's entry numbers share,
 * untouched.
 */
const test = base.extend<{ api: TodoApi }>({
  api: async ({}, use) => {
    const api = await TodoApi.start();
    await use(api);
    await api.close();
  },
});

const SHELL = '/backbone.html,/fetch.html,/vendor/jquery.js,/vendor/underscore.js,/vendor/backbone.js';
const ONE_LINE = `/outbox-sw.js?include=/todos&collections=/todos,/todos/*/notes&urlMember=url&shell=${SHELL}&reads=/todos`;

type App = { [step in 'add' | 'toggle' | 'remove']: (title: string) => Promise<void> } & {
  rename(title: string, to: string): Promise<void>;
  addNote(title: string, text: string): Promise<void>;
  titles(): [string, boolean][];
};
declare global {
  interface Window {
    app: App;
    appReady: Promise<void>;
  }
}

async function openApp(page: Page, api: TodoApi, path: string): Promise<void> {
  await page.goto(`${api.url}${path}`);
  await page.evaluate(async (line) => {
    // The one line a site adds, and a wait until its worker controls the page.
    await navigator.serviceWorker.register(line);
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
  }, ONE_LINE);
  await page.evaluate(() => window.appReady);
}

const step = (page: Page, name: keyof App, ...args: string[]) => page.evaluate(([n, a]) => (window.app[n as keyof App] as (...x: string[]) => Promise<void>)(...a), [name, args] as const);

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

for (const [name, path] of [
  ['Backbone, idAttribute: id', '/backbone.html?idAttribute=id'],
  ['Backbone, idAttribute: url', '/backbone.html?idAttribute=url'],
  ['a fetch() store', '/fetch.html'],
] as const) {
  test(`${name}: a day of edits offline, online-made and offline-made records, a child under a new one: the server ends with what the person did, nothing on another device's records`, async ({ context, api }) => {
    // Another device made the first records: ids 1 and 2, which the outbox's entries also number.
    await anotherDeviceAdds(api, 'B: call the plumber');
    await anotherDeviceAdds(api, 'B: buy paint');
    const page = await context.newPage();
    await openApp(page, api, path);
    await step(page, 'add', 'bread');
    await step(page, 'add', 'butter');
    // The list read before the worker took control was cached when it did (a first visit),
    // and each delivered create refreshed it.
    await expect.poll(() => cachedTitles(page)).toEqual(['B: call the plumber', 'B: buy paint', 'bread', 'butter']);

    await context.setOffline(true);
    await step(page, 'add', 'milk');
    await step(page, 'add', 'eggs');
    await step(page, 'add', 'jam');
    await step(page, 'toggle', 'milk');
    await step(page, 'rename', 'eggs', 'free-range eggs');
    await step(page, 'remove', 'jam');
    await step(page, 'toggle', 'bread');
    await step(page, 'remove', 'butter');
    await step(page, 'addNote', 'milk', 'semi-skimmed');
    expect(await page.evaluate(() => window.app.titles())).toEqual([['B: call the plumber', false], ['B: buy paint', false], ['bread', true], ['milk', true], ['free-range eggs', false]]);
    expect(api.todos.size).toBe(4); // nothing reached the server while offline

    // Reloaded offline: the app opens from its shell and its list from the cache, with every
    // waiting write applied, and the answer says so.
    await page.reload();
    await page.evaluate(() => window.appReady);
    expect(await page.evaluate(() => window.app.titles())).toEqual([['B: call the plumber', false], ['B: buy paint', false], ['bread', true], ['milk', true], ['free-range eggs', false]]);
    const read = await page.evaluate(async () => {
      const response = await fetch('/todos');
      return { cache: response.headers.get('Outbox-From-Cache'), applied: response.headers.get('Outbox-Applied'), age: response.headers.get('Age') };
    });
    expect(read).toEqual({ cache: '?1', applied: '8', age: expect.stringMatching(/^\d+$/) });
    if (path.startsWith('/backbone.html?idAttribute=url')) {
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 800 });
        await page.screenshot({ path: test.info().outputPath(`offline-reload-${width}.png`) });
      }
    }

    await context.setOffline(false);
    const theEnd = [
      { title: 'B: call the plumber', completed: false, notes: [] },
      { title: 'B: buy paint', completed: false, notes: [] },
      { title: 'bread', completed: true, notes: [] },
      { title: 'milk', completed: true, notes: ['semi-skimmed'] },
      { title: 'free-range eggs', completed: false, notes: [] },
    ];
    await expect.poll(() => api.state()).toEqual(theEnd);
    // Each of this device's writes arrived once, with a key, at a real URL.
    const mine = api.writes.slice(2);
    expect(mine.every((write) => write.key !== undefined)).toBe(true);
    expect(new Set(mine.map((write) => write.key)).size).toBe(mine.length);
    expect(mine.filter((write) => write.line.includes('outbox-'))).toEqual([]);
    // milk, eggs and jam were made offline: 5, 6 and 7 on the server, never 1 or 2 (the other device's).
    expect(mine.map((write) => write.line.replace(/^\w+ /, ''))).toEqual(['/todos', '/todos', '/todos', '/todos', '/todos', '/todos/5', '/todos/6', '/todos/7', '/todos/3', '/todos/4', '/todos/5/notes']);
  });
}
