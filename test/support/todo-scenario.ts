/**
 * A day with a todo app whose server makes the ids, as the real-apps cases run it in every
 * engine (decisions 0022, 0023): what the person does, and what the server must end with.
 */

/** The apps under test (test/fixtures/rest-apps/), unchanged but for the one line. */
export const APPS = [
  ['Backbone, idAttribute: id', '/backbone.html?idAttribute=id'],
  ['Backbone, idAttribute: url', '/backbone.html?idAttribute=url'],
  ['a fetch() store', '/fetch.html'],
] as const;

const SHELL = '/backbone.html,/fetch.html,/vendor/jquery.js,/vendor/underscore.js,/vendor/backbone.js';
/** The one line. `timers`: retry soon, where nothing but the outbox's own timers replays (Firefox, WebKit). */
export const oneLine = (timers = '') => `/outbox-sw.js?include=/todos&collections=/todos,/todos/*/notes&collections.urlMember=url&reads.shell=${SHELL}&reads=/todos${timers}`;

/** The page code that registers the one line and waits until its worker controls the page. */
export const REGISTER = `await navigator.serviceWorker.register(line);
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));`;

/** Another device's records, made first: ids 1 and 2, which the outbox's entries also number. */
export const OTHER_DEVICE = ['B: call the plumber', 'B: buy paint'];
export const ONLINE_STEPS: string[][] = [
  ['add', 'bread'],
  ['add', 'butter'],
];
export const OFFLINE_STEPS: string[][] = [
  ['add', 'milk'],
  ['add', 'eggs'],
  ['add', 'jam'],
  ['toggle', 'milk'],
  ['rename', 'eggs', 'free-range eggs'],
  ['remove', 'jam'],
  ['toggle', 'bread'],
  ['remove', 'butter'],
  ['addNote', 'milk', 'semi-skimmed'],
];
/** What the app shows after the offline steps, and after a reload offline. */
export const ON_SCREEN = [['B: call the plumber', false], ['B: buy paint', false], ['bread', true], ['milk', true], ['free-range eggs', false]];
/** What the server must hold once the device is back. */
export const THE_END = [
  { title: 'B: call the plumber', completed: false, notes: [] },
  { title: 'B: buy paint', completed: false, notes: [] },
  { title: 'bread', completed: true, notes: [] },
  { title: 'milk', completed: true, notes: ['semi-skimmed'] },
  { title: 'free-range eggs', completed: false, notes: [] },
];
/**
 * Where this device's writes went: milk and eggs were made offline (5 and 6 on the server,
 * never 1 or 2). Jam was made and deleted offline before its create was ever tried: both
 * were withdrawn, and neither was sent.
 */
export const PATHS_WRITTEN = ['/todos', '/todos', '/todos', '/todos', '/todos/5', '/todos/6', '/todos/3', '/todos/4', '/todos/5/notes'];
/** How many waiting writes a reload offline applies to `GET /todos` (jam's two are gone). */
export const APPLIED_TO_LIST = '6';
