import { OutboxError } from './outbox-error.js';

import { WRITE_METHODS, type WriteMethod } from '../contract/http.js';
export { WRITE_METHODS, type WriteMethod };

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_BASE_MS = 1_000;
export const DEFAULT_RETRY_MAX_MS = 60_000;
export const DEFAULT_MAX_ATTEMPTS = 10;
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1_000;
/** What HTTP/1.1 browsers allow one host: more lanes at once would only queue in the browser. */
export const DEFAULT_CONCURRENCY = 6;

/** How the outbox is configured. Every field is optional; the defaults suit most apps. */
export interface OutboxOptions {
  /**
   * Paths whose writes go through the outbox. An entry without `*` is a prefix
   * (`/api/`); an entry with `*` is a pattern for the whole path, `*` standing for any
   * characters (`/api/*.json`). Every entry starts with `/`.
   * @default ['/'] (every same-origin path)
   */
  include: string[];
  /** Paths left alone even when `include` matches them; same syntax. @default [] */
  exclude: string[];
  /** Methods handled: any of POST, PUT, PATCH, DELETE; no others are allowed. @default all four */
  methods: WriteMethod[];
  /**
   * Other origins whose writes also go through the outbox, as `scheme://host[:port]`
   * (for example `https://api.example.com`). Their servers must allow the outbox's
   * headers in CORS. @default [] (same origin only)
   */
  origins: string[];
  /**
   * How long one attempt may wait for the response headers before it is abandoned, and
   * how long a page waits for its write's answer before it gets the queued answer.
   * @default 10_000 (ms)
   */
  timeoutMs: number;
  /**
   * What the page's `fetch()` gets when its write is kept for later: `accept`, a
   * `202 Accepted` with a small JSON body; `reject`, a network error, as with Workbox's
   * background sync. Either way the write stays in the outbox. @default 'accept'
   */
  whenQueued: 'accept' | 'reject';
  /**
   * Smallest retry delay ceiling. After a retryable answer (5xx, 408, 425, 429) the
   * ceiling doubles with each attempt; after no answer it is the time the write has waited
   * so far. The delay is drawn uniformly below it (full jitter). @default 1_000 (ms)
   */
  retryBaseMs: number;
  /**
   * Largest retry delay ceiling. A server's `Retry-After` (in seconds or as an HTTP-date)
   * replaces the backoff, even when it asks for longer. @default 60_000 (ms)
   */
  retryMaxMs: number;
  /**
   * How many retryable answers (408, 425, 429, 5xx) a write may get before it becomes a
   * dead letter. Attempts that get no answer (offline, refused, timed out) don't count:
   * `maxAgeMs` bounds those, so a device offline for a day keeps its writes.
   * @default 10
   */
  maxAttempts: number;
  /** Age after which an undelivered write becomes a dead letter (checked when it reaches the head of its lane). @default 604_800_000 (7 days) */
  maxAgeMs: number;
  /**
   * How many lanes may send at once (6 is what HTTP/1.1 browsers allow one host). Writes
   * of one lane always go one at a time, in order; writes say which lane they are in with an `Outbox-Lane` header (or the
   * `lane` hook of createOutbox). @default 6
   */
  concurrency: number;
  /**
   * The app's shell: same-origin paths (exact, such as `/`, `/app.js`, `/style.css`) that the
   * worker caches when it installs and serves network-first, from the cache when the
   * network fails, so that the app opens offline. A page's query string is ignored in the
   * lookup. @default [] (nothing cached)
   */
  shell: string[];
  /**
   * GET paths whose answers are kept as they pass and served from the cache when the
   * network fails (same syntax as `include`), so that the app shows its data offline, with
   * this user's waiting writes applied to JSON answers.
   * Such an answer has the header `Outbox-From-Cache: ?1`; every cached copy has
   * `Outbox-Cached-At`. @default [] (no read is ever cached)
   */
  reads: string[];
  /**
   * How shell and reads are served: `network-first` (the network's answer whenever there is
   * one) or `stale-while-revalidate` (the cached copy at once, refreshed behind it: faster,
   * but a page may see data one load old). @default 'network-first'
   */
  readStrategy: 'network-first' | 'stale-while-revalidate';
  /** At most this many cached reads; the least recently stored go first. @default 200 */
  readsMaxEntries: number;
  /**
   * A cached read older than this is deleted instead of served. As long as writes may wait
   * by default, so that a page can show what a waiting write changes. @default 604_800_000 (7 days)
   */
  readsMaxAgeMs: number;
  /**
   * HTML form posts (POST navigations to `include`d paths, urlencoded or multipart, files
   * included) go through the outbox too: kept,
   * stamped and sent like any write. Online the form's own answer is shown; when it cannot
   * be sent, the person gets a page saying the form was saved on this device. @default false
   */
  forms: boolean;
  /**
   * Where a form kept for later sends the person (a same-origin path, such as a page of
   * the shell), with `?outbox-id=<id>`, instead of the outbox's own "saved" page. @default none
   */
  formSavedUrl: string | undefined;
  /**
   * Paths (same syntax as `include`) whose waiting writes a later one may replace, so that
   * ten renames made offline send one write: a PUT replaces the lane's last waiting PUT to
   * the same URL, a JSON Merge Patch (`application/merge-patch+json`) is composed with the
   * last one, a DELETE replaces a waiting PUT or PATCH. Only a write that never had an
   * attempt, never across another write of its lane, never a POST. @default [] (nothing folds)
   */
  fold: string[];
  /**
   * Paths (same syntax as `include`) whose conflicts the outbox merges itself, member by
   * member, from the version the write was made to: it keeps, for these paths, the last
   * JSON representations it saw with an ETag (GET answers and write answers), and the one
   * a write's If-Match names goes with the write. A member only one side changed takes
   * that side's value; a member both changed differently, or no kept version, leaves the
   * conflict to the app (`ask`). Risk: a merge can be valid JSON and still wrong for the
   * app (two edits that each made sense alone). @default [] (the app decides every conflict)
   */
  merge: string[];
  /**
   * Paths whose conflicts are settled for the server ("server wins"): the write is dropped,
   * reported as `resolved` with `how: 'theirs'`, never silently. Risk: the write's change
   * is lost. @default []
   */
  keepTheirs: string[];
  /**
   * For `merge`: the member that identifies the elements of arrays of objects (`id`), so
   * that such arrays are merged element by element (ours' order, theirs' new elements
   * after) rather than as one value. @default none: arrays are values (RFC 7396)
   */
  mergeIdKey: string | undefined;
  /**
   * Paths whose conflicts are settled for the write ("client wins", last write wins made
   * explicit): it is sent again with If-Match on the current version, and overwrites the
   * other change. Risk: the other person's change is overwritten. @default []
   */
  keepMine: string[];
  /**
   * Request headers that carry credentials: never written to IndexedDB, and asked for
   * again at each attempt (the `credentials` hook, or an open page's `onCredentials`).
   * `Cookie` needs no listing: pages cannot set it, and the browser adds it. Names are
   * matched without regard to case. @default ['authorization', 'proxy-authorization']
   */
  credentialHeaders: string[];
  /**
   * The app's sign-in pages (same syntax as `include`, matched on any origin): a write whose
   * answer is a redirect ending on one was not applied (the session ended while it waited).
   * It waits as `needs-auth`, is never settled on that page, and goes again when a page of
   * the app opens (the person signed in again) or on credentialsChanged(). [] turns it off.
   * @default ['/login', '/signin', '/sign-in', '/sign_in', '/users/sign_in', '/session/new', '/accounts/login', '/auth/login']
   */
  signInPaths: string[];
  /**
   * Encryption at rest (decision 0021): the same-origin path of the app's key endpoint
   * (sw-outbox/server's DeviceKeys). Set, each write's headers and body, and the versions
   * kept for merges, are stored sealed to the user's device key, whose private half the
   * worker fetches from there, with the user's session, only to read them (to send them).
   * A write that cannot be sealed (no key on the device yet, and none to be had) is never
   * stored as it is. @default undefined: stored as they are
   */
  encryptionKeyUrl: string | undefined;
  /**
   * Collections whose members the server makes the ids of (decision 0022): paths matched
   * whole, `*` standing for one segment (`/todos`, or `/lists/*` for the items of each list). A POST to one that is
   * kept for later is answered as a create (`201`, a `Location` and the body with a
   * provisional identity `outbox-<uuid>`); later writes naming that identity wait behind
   * the create and are sent to the real one, once its answer gives it. An edit (PUT,
   * PATCH) of a member kept for later is answered with its own JSON. @default [] (none)
   */
  collections: string[];
  /** For `collections`: the member of a created resource's JSON that holds its id. @default 'id' */
  idMember: string;
  /**
   * For `collections`: the member that holds a created resource's own URL, when the API
   * gives one (`url`, `href`, `self`): a provisional answer fills it with the provisional
   * URL. The real URL is read from `Location` first. @default undefined (none)
   */
  urlMember: string | undefined;
  /** Logs every step to the worker's console, prefixed `[sw-outbox]`; nothing is printed otherwise. @default false */
  debug: boolean;
}

export type OutboxOptionsInput = Partial<OutboxOptions>;

const DEFAULTS: OutboxOptions = {
  include: ['/'],
  exclude: [],
  methods: [...WRITE_METHODS],
  origins: [],
  timeoutMs: DEFAULT_TIMEOUT_MS,
  whenQueued: 'accept',
  retryBaseMs: DEFAULT_RETRY_BASE_MS,
  retryMaxMs: DEFAULT_RETRY_MAX_MS,
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  maxAgeMs: DEFAULT_MAX_AGE_MS,
  concurrency: DEFAULT_CONCURRENCY,
  shell: [],
  reads: [],
  readStrategy: 'network-first',
  readsMaxEntries: 200,
  readsMaxAgeMs: DEFAULT_MAX_AGE_MS,
  forms: false,
  formSavedUrl: undefined,
  fold: [],
  merge: [],
  keepTheirs: [],
  mergeIdKey: undefined,
  keepMine: [],
  credentialHeaders: ['authorization', 'proxy-authorization'],
  signInPaths: ['/login', '/signin', '/sign-in', '/sign_in', '/users/sign_in', '/session/new', '/accounts/login', '/auth/login'],
  encryptionKeyUrl: undefined,
  collections: [],
  idMember: 'id',
  urlMember: undefined,
  debug: false,
};

/** What an option's value is, for checking it and reading it from a query string. */
export type Kind = 'paths' | 'path' | 'member' | 'headers' | 'methods' | 'origins' | 'ms' | 'count' | 'whenQueued' | 'readStrategy' | 'flag';

export const KINDS: Record<keyof OutboxOptions, Kind> = {
  include: 'paths',
  exclude: 'paths',
  methods: 'methods',
  origins: 'origins',
  timeoutMs: 'ms',
  whenQueued: 'whenQueued',
  retryBaseMs: 'ms',
  retryMaxMs: 'ms',
  maxAttempts: 'count',
  maxAgeMs: 'ms',
  concurrency: 'count',
  shell: 'paths',
  reads: 'paths',
  readStrategy: 'readStrategy',
  readsMaxEntries: 'count',
  readsMaxAgeMs: 'ms',
  forms: 'flag',
  formSavedUrl: 'path',
  fold: 'paths',
  merge: 'paths',
  keepTheirs: 'paths',
  mergeIdKey: 'member',
  keepMine: 'paths',
  credentialHeaders: 'headers',
  signInPaths: 'paths',
  encryptionKeyUrl: 'path',
  collections: 'paths',
  idMember: 'member',
  urlMember: 'member',
  debug: 'flag',
};

export const NAMES = Object.keys(KINDS) as (keyof OutboxOptions)[];

export function isOptionName(name: string): name is keyof OutboxOptions {
  return Object.hasOwn(KINDS, name);
}

function invalid(name: string, problem: string, fix: string): OutboxError {
  return new OutboxError('invalid-option', `sw-outbox option "${name}" ${problem}. ${fix}`);
}

/** Checks every option a caller gave and fills in the defaults. Throws {@link OutboxError}. */
export function resolveOptions(input: OutboxOptionsInput = {}): OutboxOptions {
  if (typeof input !== 'object' || input === null) {
    throw new OutboxError('invalid-option', 'sw-outbox options must be an object, such as { include: ["/api/"] }.');
  }
  const options: Record<string, unknown> = { ...DEFAULTS };
  for (const [name, value] of Object.entries(input)) {
    if (!isOptionName(name)) {
      throw new OutboxError(
        'unknown-option',
        `sw-outbox has no option "${name}". Known options: ${NAMES.join(', ')}.`,
      );
    }
    if (value !== undefined) options[name] = check(name, value);
  }
  const resolved = options as unknown as OutboxOptions;
  const policies = (['merge', 'keepTheirs', 'keepMine'] as const).flatMap((policy) => resolved[policy].map((path) => [path, policy] as const));
  for (const [path, policy] of policies) {
    const other = policies.find(([again, which]) => again === path && which !== policy);
    if (other) throw invalid(policy, `has "${path}", which ${other[1]} has too`, 'Give each path one conflict policy.');
  }
  if (resolved.retryMaxMs < resolved.retryBaseMs) {
    throw invalid('retryMaxMs', `(${resolved.retryMaxMs}) is below retryBaseMs (${resolved.retryBaseMs})`, 'Make it at least retryBaseMs.');
  }
  return resolved;
}

function check(name: keyof OutboxOptions, value: unknown): unknown {
  switch (KINDS[name]) {
    case 'paths': {
      const paths = stringList(name, value);
      if (name === 'include' && paths.length === 0) throw invalid(name, 'is empty', 'List at least one path, or leave it out to handle every path.');
      return paths.map((path) => {
        if (!path.startsWith('/')) throw invalid(name, `has "${path}", which does not start with "/"`, 'Write paths from the root, such as "/api/".');
        if (name === 'shell' && /[*?#]/.test(path)) throw invalid(name, `has "${path}"`, 'List exact paths of the shell, such as "/" or "/app.js", without "*", "?" or "#".');
        return path;
      });
    }
    case 'headers':
      return stringList(name, value).map((header) => {
        if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(header)) throw invalid(name, `has "${header}", which is not a header name`, 'Give header names, such as "authorization" or "x-api-key".');
        return header.toLowerCase();
      });
    case 'methods': {
      const methods = stringList(name, value).map((method) => method.toUpperCase());
      if (methods.length === 0) throw invalid(name, 'is empty', `List at least one of ${WRITE_METHODS.join(', ')}.`);
      for (const method of methods) {
        if (!(WRITE_METHODS as readonly string[]).includes(method)) {
          throw invalid(name, `has "${method}"`, `Use only ${WRITE_METHODS.join(', ')}: other methods are not writes.`);
        }
      }
      return [...new Set(methods)];
    }
    case 'origins':
      return stringList(name, value).map((origin) => {
        let parsed: URL | undefined;
        try {
          parsed = new URL(origin);
        } catch {
          parsed = undefined;
        }
        if (!parsed || parsed.origin !== origin || !/^https?:$/.test(parsed.protocol)) {
          throw invalid(name, `has "${origin}", which is not an origin`, 'Write scheme://host[:port] with no path or trailing slash, such as "https://api.example.com".');
        }
        return origin;
      });
    case 'ms':
    case 'count': {
      // retryBaseMs 0 too: a zero backoff stays zero however often it doubles.
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        const unit = KINDS[name] === 'ms' ? 'milliseconds' : 'a count';
        throw invalid(name, `is ${JSON.stringify(value)}`, `Give a whole number of ${unit}, 1 or more.`);
      }
      return value;
    }
    case 'whenQueued':
      if (value !== 'accept' && value !== 'reject') {
        throw invalid(name, `is ${JSON.stringify(value)}`, 'Use "accept" (answer 202) or "reject" (a network error).');
      }
      return value;
    case 'path':
      if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) {
        throw invalid(name, `is ${JSON.stringify(value)}`, `Give a same-origin path from the root, such as "${name === 'encryptionKeyUrl' ? '/outbox-key' : '/saved.html'}".`);
      }
      return value;
    case 'member':
      if (typeof value !== 'string' || value === '') throw invalid(name, `is ${JSON.stringify(value)}`, 'Give the name of a member, such as "id".');
      return value;
    case 'readStrategy':
      if (value !== 'network-first' && value !== 'stale-while-revalidate') {
        throw invalid(name, `is ${JSON.stringify(value)}`, 'Use "network-first" or "stale-while-revalidate".');
      }
      return value;
    case 'flag':
      if (typeof value !== 'boolean') throw invalid(name, `is ${JSON.stringify(value)}`, 'Use true or false.');
      return value;
  }
}

function stringList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(name, `is ${JSON.stringify(value)}`, 'Give a list of strings.');
  }
  return value;
}
