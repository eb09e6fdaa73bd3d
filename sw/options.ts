import { WRITE_METHODS, type WriteMethod } from '../contract/http.js';
export { WRITE_METHODS, type WriteMethod };

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_BASE_MS = 1_000;
export const DEFAULT_RETRY_MAX_MS = 60_000;
export const DEFAULT_MAX_RETRYABLE_ANSWERS = 10;
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1_000;
/** What HTTP/1.1 browsers allow one host: more lanes at once would only queue in the browser. */
export const DEFAULT_CONCURRENCY = 6;

/** How a write that got no answer, or a retryable one, is tried again (option group `retry`). */
export interface RetryOptions {
  /**
   * Smallest retry delay ceiling. After a retryable answer (5xx, 408, 425, 429) the
   * ceiling doubles with each attempt; after no answer it is the time the write has waited
   * so far. The delay is drawn uniformly below it (full jitter). @default 1_000 (ms)
   */
  baseMs: number;
  /**
   * Largest retry delay ceiling. A server's `Retry-After` (in seconds or as an HTTP-date)
   * replaces the backoff, even when it asks for longer. @default 60_000 (ms)
   */
  maxMs: number;
  /**
   * How many retryable answers (408, 425, 429, 5xx) a write may get before it becomes a
   * dead letter. Attempts that get no answer (offline, refused, timed out) don't count:
   * the option `maxAgeMs` bounds those, so a device offline for a day keeps its writes.
   * @default 10
   */
  maxRetryableAnswers: number;
}

/** What the app shows offline (option group `reads`): its shell and its reads, kept as they pass. */
export interface ReadsOptions {
  /**
   * GET paths whose answers are kept as they pass and served from the cache when the
   * network fails (same syntax as `include`; `reads=/api/` is short for `reads.paths=/api/`), so that the app shows its data offline, with
   * this user's waiting writes applied to JSON answers.
   * Such an answer has the header `Outbox-From-Cache: ?1`; every cached copy has
   * `Outbox-Cached-At`. @default [] (no read is ever cached)
   */
  paths: string[];
  /**
   * The app's shell: same-origin paths (exact, such as `/`, `/app.js`, `/style.css`) that the
   * worker caches when it installs and serves network-first, from the cache when the
   * network fails, so that the app opens offline. A page's query string is ignored in the
   * lookup. @default [] (nothing cached)
   */
  shell: string[];
  /**
   * How shell and reads are served: `network-first` (the network's answer whenever there is
   * one) or `stale-while-revalidate` (the cached copy at once, refreshed behind it: faster,
   * but a page may see data one load old). @default 'network-first'
   */
  strategy: 'network-first' | 'stale-while-revalidate';
  /** At most this many cached reads; the least recently stored go first. @default 200 */
  maxEntries: number;
  /**
   * A cached read older than this is deleted instead of served. As long as writes may wait
   * by default, so that a page can show what a waiting write changes. @default 604_800_000 (7 days)
   */
  maxAgeMs: number;
}

/** HTML form posts (option group `forms`). */
export interface FormsOptions {
  /**
   * HTML form posts (POST navigations to `include`d paths, urlencoded or multipart, files
   * included) go through the outbox too: kept,
   * stamped and sent like any write. Online the form's own answer is shown; when it cannot
   * be sent, the person gets a page saying the form was saved on this device. `forms=true` is short for `forms.enabled=true`. @default false
   */
  enabled: boolean;
  /**
   * Where a form kept for later sends the person (a same-origin path, such as a page of
   * the shell), with `?outbox-id=<id>`, instead of the outbox's own "saved" page. @default none
   */
  savedPath: string | undefined;
}

/**
 * How conflicts are settled without the app, by path (option group `conflicts`): a path in
 * none of the lists is left to the app (`ask`). Each member is named after its policy.
 */
export interface ConflictsOptions {
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
  theirs: string[];
  /**
   * Paths whose conflicts are settled for the write ("client wins", last write wins made
   * explicit): it is sent again with If-Match on the current version, and overwrites the
   * other change. Risk: the other person's change is overwritten. @default []
   */
  mine: string[];
  /**
   * For `conflicts.merge`: the member that identifies the elements of arrays of objects (`id`), so
   * that such arrays are merged element by element (ours' order, theirs' new elements
   * after) rather than as one value. @default none: arrays are values (RFC 7396)
   */
  idKey: string | undefined;
}

/**
 * Apps whose server makes the ids (option group `collections`, decision 0022): which POSTs
 * are creates, and where an answer holds what it created.
 */
export interface CollectionsOptions {
  /**
   * Collections whose members the server makes the ids of (decision 0022): paths matched
   * whole, `*` standing for one segment (`/todos`, or `/lists/*` for the items of each list;
   * `collections=/todos` is short for `collections.paths=/todos`). A POST to one that is
   * kept for later is answered as a create (`201`, a `Location` and the body with a
   * provisional identity `outbox-<uuid>`); later writes naming that identity wait behind
   * the create and are sent to the real one, once its answer gives it. An edit (PUT,
   * PATCH) of a member kept for later is answered with its own JSON. @default [] (none)
   */
  paths: string[];
  /** For `collections.paths`: the member of a created resource's JSON that holds its id. @default 'id' */
  idMember: string;
  /**
   * For `collections.paths`: the member that holds a created resource's own URL, when the API
   * gives one (`url`, `href`, `self`): a provisional answer fills it with the provisional
   * URL. The real URL is read from `Location` first. @default undefined (none)
   */
  urlMember: string | undefined;
}

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
  /** Methods handled: any of POST, PUT, PATCH, DELETE; no others are allowed. @default ['POST', 'PUT', 'PATCH', 'DELETE'] (all four) */
  methods: WriteMethod[];
  /**
   * Other origins whose writes also go through the outbox, as `scheme://host[:port]`
   * (for example `https://api.example.com`). Their servers must allow the outbox's
   * headers in CORS. @default [] (same origin only)
   */
  origins: string[];
  /** How long one attempt may wait for the response headers before it is abandoned. @default 10_000 (ms) */
  timeoutMs: number;
  /**
   * How long a page waits for its write's answer before it gets the queued answer (the
   * write stays in the outbox either way). @default `timeoutMs`
   */
  pageWaitMs: number;
  /**
   * What the page's `fetch()` gets when its write is kept for later: `accept`, a
   * `202 Accepted` with a small JSON body; `reject`, a network error, as with Workbox's
   * background sync. Either way the write stays in the outbox. @default 'accept'
   */
  whenQueued: 'accept' | 'reject';
  /** Retries: see RetryOptions. */
  retry: RetryOptions;
  /** Age after which an undelivered write becomes a dead letter (checked when it reaches the head of its lane). @default 604_800_000 (7 days) */
  maxAgeMs: number;
  /**
   * How many lanes may send at once (6 is what HTTP/1.1 browsers allow one host). Writes
   * of one lane always go one at a time, in order; writes say which lane they are in with an `Outbox-Lane` header (or the
   * `lane` hook of createOutbox). @default 6
   */
  concurrency: number;
  /** Offline reads: see ReadsOptions. */
  reads: ReadsOptions;
  /** Form posts: see FormsOptions. */
  forms: FormsOptions;
  /**
   * Paths (same syntax as `include`) whose waiting writes a later one may replace, so that
   * ten renames made offline send one write: a PUT replaces the lane's last waiting PUT to
   * the same URL, a JSON Merge Patch (`application/merge-patch+json`) is composed with the
   * last one, a DELETE replaces a waiting PUT or PATCH. Only a write that never had an
   * attempt, never across another write of its lane, never a POST. @default [] (nothing folds)
   */
  fold: string[];
  /** Conflict policies by path: see ConflictsOptions. */
  conflicts: ConflictsOptions;
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
  encryptionKeyPath: string | undefined;
  /** Apps whose server makes the ids: see CollectionsOptions. */
  collections: CollectionsOptions;
  /** Logs every step to the worker's console, prefixed `[sw-outbox]`; nothing is printed otherwise. @default false */
  debug: boolean;
}

export type Groups = 'retry' | 'reads' | 'forms' | 'conflicts' | 'collections';
type Flat = Exclude<keyof OutboxOptions, Groups>;

/** An option's full name: a plain option, or a group's member (`retry.baseMs`). */
export type OptionName = Flat | { [G in Groups]: `${G}.${keyof OutboxOptions[G] & string}` }[Groups];

/**
 * Options as a caller gives them: every one optional, a group's members too. A group
 * given a list or a flag (`reads: ['/api/']`, `collections: ['/todos']`, `forms: true`) sets its
 * main member.
 */
export type OutboxOptionsInput = { [K in Flat]?: OutboxOptions[K] } & {
  retry?: Partial<RetryOptions>;
  reads?: Partial<ReadsOptions> | string[];
  forms?: Partial<FormsOptions> | boolean;
  conflicts?: Partial<ConflictsOptions>;
  collections?: Partial<CollectionsOptions> | string[];
} & DeprecatedOptions;

/** The names of 0.1 and 0.2 that were renamed: each still works, and says once what it is now. */
export interface DeprecatedOptions {
  /** @deprecated Use `retry.baseMs`. */
  retryBaseMs?: number;
  /** @deprecated Use `retry.maxMs`. */
  retryMaxMs?: number;
  /** @deprecated Use `retry.maxRetryableAnswers`: it counts retryable answers, not attempts. */
  maxAttempts?: number;
  /** @deprecated Use `reads.shell`. */
  shell?: string[];
  /** @deprecated Use `reads.strategy`. */
  readStrategy?: ReadsOptions['strategy'];
  /** @deprecated Use `reads.maxEntries`. */
  readsMaxEntries?: number;
  /** @deprecated Use `reads.maxAgeMs`. */
  readsMaxAgeMs?: number;
  /** @deprecated Use `forms.savedPath`. */
  formSavedUrl?: string;
  /** @deprecated Use `conflicts.merge`. */
  merge?: string[];
  /** @deprecated Use `conflicts.theirs`. */
  keepTheirs?: string[];
  /** @deprecated Use `conflicts.mine`. */
  keepMine?: string[];
  /** @deprecated Use `conflicts.idKey`. */
  mergeIdKey?: string;
  /** @deprecated Use `encryptionKeyPath`. */
  encryptionKeyUrl?: string;
  /** @deprecated Use `collections.idMember`. */
  idMember?: string;
  /** @deprecated Use `collections.urlMember`. */
  urlMember?: string;
}
