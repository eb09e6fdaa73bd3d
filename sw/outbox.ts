import { isSealed, type ConflictEntry, type Draft, type Entry, type LiveEntry, type SealedRequest, type SendingEntry, type StoredRequest } from './entry.js';
import { DeviceKey, KeyUnavailable } from './device-key.js';
import { checkUser, laneOf, userLane, type LaneHook } from './lanes.js';
import type { Logger } from './logger.js';
import type { OutboxOptions } from './options.js';
import type { Added, Change, Claimed, ClaimRules, OutboxStore } from './outbox-store.js';
import { OutboxError } from './outbox-error.js';
import { SYNC_TAG, type ConflictDetails, type ConflictPolicy, type Counts, type EntryMeta, type PendingWrite, type Resolution, type SignOutPending, type SignOutResult, type Snapshot, type StorageState, type StatusEvent } from './protocol.js';
import { APPLIED_HEADER, FROM_CACHE_HEADER, WITHDRAWN_HEADER } from '../contract/http.js';
import { cancelBody, formSaved, invalidLane, notStored, queued, toNavigation } from './page-answers.js';
import type { Json } from '../contract/json-merge.js';
import { encode, fetchCurrent, mergeConflict, oursOf, readResolution } from './conflict-sides.js';
import { Credentials } from './credentials.js';
import { sendAttempt } from './send-attempt.js';
import type { AttemptResult } from './retry-policy.js';
import { contentTypeOf, takeCredentials, toDraft, toRequest } from './stored-request.js';
import { answered, renewed, resolved, toMeta, unsendable, type Transition } from './transitions.js';
import { toPathTest } from './route-matcher.js';
import { ProvisionalIdentities } from './provisional-identities.js';
import type { IdentityRecord } from './identities.js';
import { overlay, type WaitingWrite } from './read-overlay.js';

/**
 * What starts a replay. The forcing ones give reason to think the network is back, so an
 * entry waiting only for the network is tried at once.
 */
export type Trigger = 'write' | 'sync' | 'page' | 'timer' | 'start';
const FORCING: ReadonlySet<Trigger> = new Set(['write', 'sync', 'page']);

/**
 * The outcome of a page's write, as its fetch handler needs it: the server's final answer
 * when it came while the page waited, else the entry that keeps the write for later.
 */
export type WriteResult =
  | { kind: 'answered'; response: Response }
  /** Kept for later; `signIn`: its attempt met this sign-in page (the session ended). */
  | { kind: 'kept'; entry: LiveEntry; body: ArrayBuffer | null; signIn?: string }
  /** The browser would not store it, and sending it at once failed too: neither kept nor sent. */
  | { kind: 'not-stored'; error: string };

/** What a page waiting for its write is handed: the server's answer, or none (kept), with the sign-in page it met if the session ended. */
type WaiterAnswer = { response?: Response | undefined; signIn?: string | undefined };

/** Functions the app gives the outbox, for what a query string cannot say. */
export interface OutboxHooks {
  /** A write's lane, when its request has no `Outbox-Lane` header. @default every write in one lane */
  lane?: LaneHook;
  /**
   * Decides each conflict as it comes: a policy (`ask` leaves it to the page), or a
   * resolution (`{ body }`, `{ json }`, `{ keep }`). Undefined: the path's policy decides
   * (options `merge`, `keepTheirs`, `keepMine`). @default the paths' policies, else ask
   */
  resolve?: (conflict: ConflictDetails) => ConflictPolicy | Resolution | undefined | Promise<ConflictPolicy | Resolution | undefined>;
  /**
   * The credential headers for an attempt of a write that was made with some (option
   * `credentialHeaders`), when this worker does not hold them: after a restart, or after a
   * 401 or 403. Undefined: an open page is asked. @default ask the pages
   */
  credentials?: (write: { url: string; method: string; lane: string }) => Record<string, string> | undefined | Promise<Record<string, string> | undefined>;
}

/** Background Sync's SyncManager; not in TypeScript's lib because only Chromium has it. */
export interface SyncManagerLike {
  register(tag: string): Promise<void>;
}

/** What the outbox runs on: the worker's own by default (see createOutbox); tests pass theirs. */
export interface OutboxDeps {
  store: OutboxStore;
  publish: (counts: Counts, event: StatusEvent) => void;
  fetch: (request: Request) => Promise<Response>;
  now: () => number;
  random: () => number;
  /** Calls `callback` after `delayMs`; returns what cancels it. */
  timer: (callback: () => void, delayMs: number) => () => void;
  log: Logger;
  /** The worker's origin: writes elsewhere get lanes of their own. */
  origin: string;
  /** False when the device is surely offline (navigator.onLine). */
  online: () => boolean;
  sync?: SyncManagerLike | undefined;
  locks?: LockManager | undefined;
  /** Asks the open pages for a write's credential headers (see ask-pages.ts); null when none gives them. */
  askPages?: ((write: { url: string; method: string; lane: string; names: string[] }) => Promise<Record<string, string> | null>) | undefined;
  /** Fetches these reads into the worker's cache, those of them it keeps (option `reads`). */
  keepReads?: ((urls: string[]) => Promise<void>) | undefined;
  /** A write to this URL was delivered (2xx): the worker's cached reads it changed may be refreshed. */
  delivered?: ((url: string) => void) | undefined;
  /** The origin's storage use and persistence, for snapshots; none where the browser has no StorageManager. */
  storage?: (() => Promise<StorageState | null>) | undefined;
}

// setTimeout takes a signed 32-bit delay; a longer one fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A write that fails unanswered while its origin answered others this recently is flagged. */
const FAILING_ALONE_WINDOW_MS = 60_000;
/**
 * How long a settled write's bookkeeping waits for the next write to carry it: the next
 * write's one transaction then persists both (decision 0010). A worker that dies in the
 * meantime sends that write again with its key, and the server answers from its store.
 */
const SETTLE_WINDOW_MS = 25;
/** How long signOut('flush') waits for the user's writes by default, and how often it looks again meanwhile. */
const DEFAULT_FLUSH_MS = 10_000;
const FLUSH_POLL_MS = 250;
/** How many representations `merge` paths keep, and the largest kept (in characters of JSON). */
const MAX_REPRESENTATIONS = 200;
const MAX_REPRESENTATION_CHARS = 64 * 1024;
/** A page opening sends the writes waiting for a session again at most this often. */
const PAGE_OPENED_INTERVAL_MS = 1_000;
/** At most this many of a page's earlier reads are fetched into the cache at once. */
const MAX_KEPT_READS = 100;
/** At most this many waiting writes are applied to a read (the first, in the order they will be sent). */
const MAX_OVERLAID_WRITES = 1_000;
/** Each worker holds a lock of this name prefix while it lives (see #checkOwners). */
const OWNER_LOCK = 'sw-outbox-owner:';
/** Without Web Locks, a `sending` entry of another worker counts as abandoned this long after its timeout. */
const ABANDONED_MARGIN_MS = 5_000;

/**
 * The outbox: keeps each write in IndexedDB before it is sent, sends each lane's writes
 * one at a time in sequence order and up to `concurrency` lanes at once, and decides after
 * each answer whether the write is settled, retried later, or a dead letter. Entry changes
 * come from sw/transitions.ts; this class runs them and says what they imply.
 */
export class Outbox {
  readonly #options: OutboxOptions;
  /** The `fold` paths, as tests. */
  readonly #foldPaths: ((pathname: string) => boolean)[];
  /** Each path policy's paths, as tests. */
  readonly #policyPaths: readonly (readonly [ConflictPolicy, (pathname: string) => boolean])[];
  readonly #hooks: OutboxHooks;
  readonly #deps: OutboxDeps;
  /** This worker instance; it owns the entries it claims. */
  readonly #owner = crypto.randomUUID();

  #counts: Counts = { pending: 0, deadLetters: 0, conflicts: 0 };
  /** The signed-in user (outbox.signIn), read from the store once. */
  #user: string | undefined;
  #userKnown: Promise<unknown> | undefined;
  #verified: Promise<unknown> | undefined;
  /** Attempts under way in this worker: entry id to lane. */
  readonly #inFlight = new Map<number, string>();
  /**
   * Slots taken by claims not yet back from IndexedDB: lanes of writes being stored with a
   * claim, and the slots a running commit may fill. Counted with #inFlight, so that
   * writes arriving together cannot all see a free slot and exceed `concurrency`.
   */
  readonly #claimingLanes = new Set<string>();
  #claimingSlots = 0;
  /** The credential headers of writes: held in memory, else asked for; never stored (decision 0019). */
  readonly #credentials: Credentials;
  /** Encryption at rest (option encryptionKeyUrl): seals what is stored, opens what is sent. */
  readonly #keys: DeviceKey | undefined;
  /** Provisional identities for creates on `collections` paths (decision 0022). */
  readonly #identities: ProvisionalIdentities | undefined;
  /** Pages waiting for their own write's answer. */
  readonly #waiters = new Map<number, { lane: string; resolve: (answer: WaiterAnswer) => void }>();
  /** Transitions waiting for the next commit, which persists them in one transaction. */
  #changes: Change[] = [];
  /** A trigger asked for a claim since the last commit; #force: one that may skip waits for the network. */
  #wanted = false;
  #force = false;
  /** When a page last opened (see pageOpened). */
  #pageOpenedAt = -Infinity;
  /** A page opened within the interval: its trigger is put off to the interval's end. */
  #pageOpenedLater = false;
  /** When the last forcing trigger came (a sync event, a page's online signal, a new write). */
  #forcedAt = -Infinity;
  /** When credentials last could have changed (a page opening or offering them, credentialsChanged). */
  #offeredAt = -Infinity;
  #committing: Promise<void> | undefined;
  #idle: (() => void)[] = [];
  #cancelWake: (() => void) | undefined;
  readonly #goneOwners = new Set<string>();
  /** When a write to each origin last got an answer, whatever it was. */
  readonly #answeredAt = new Map<string, number>();
  #syncEvents = 0;
  /** A sync is registered and has not fired since: registering again would cost an IPC for nothing. */
  #syncRegistered = false;

  constructor(options: OutboxOptions, hooks: OutboxHooks, deps: OutboxDeps) {
    this.#options = options;
    this.#foldPaths = options.fold.map(toPathTest);
    this.#policyPaths = [
      ...options.merge.map((path) => ['merge', toPathTest(path)] as const),
      ...options.keepTheirs.map((path) => ['theirs', toPathTest(path)] as const),
      ...options.keepMine.map((path) => ['mine', toPathTest(path)] as const),
    ];
    this.#hooks = hooks;
    this.#deps = deps;
    this.#credentials = new Credentials({ hook: hooks.credentials, pages: deps.askPages, names: options.credentialHeaders, log: deps.log });
    this.#identities = options.collections.length > 0 ? new ProvisionalIdentities(options, deps.store) : undefined;
    const keyUrl = options.encryptionKeyUrl && new URL(options.encryptionKeyUrl, deps.origin).href;
    this.#keys = keyUrl === undefined ? undefined : new DeviceKey({
      url: keyUrl,
      fetch: deps.fetch,
      clientId: () => deps.store.clientId(),
      credentials: () => this.#credentials.forKeyRequest(keyUrl),
      keptKey: (user) => deps.store.keptKey(user),
      keepKey: (key) => deps.store.keepKey(key),
      dropKey: (user) => deps.store.dropKey(user),
    });
    // Held while this worker lives, released by the browser when it dies: another worker
    // finding an entry this one was sending can then tell a live attempt from a dead one.
    deps.locks?.request(OWNER_LOCK + this.#owner, () => new Promise<never>(() => {})).catch(() => {});
  }

  /**
   * The page's answer to one of its writes, for a fetch handler's respondWith: the
   * server's answer when it came while the page waited, else the queued answer (202, or
   * a network error with `whenQueued: 'reject'`). A write naming an invalid lane gets a
   * 400 problem+json that says why, and is not kept.
   */
  async handle(request: Request, waitUntil: (promise: Promise<unknown>) => void, madeBy?: string): Promise<Response> {
    let result: WriteResult;
    try {
      result = await this.write(request, waitUntil, madeBy);
    } catch (error) {
      if (!(error instanceof OutboxError && error.code === 'invalid-lane')) throw error;
      return invalidLane(error.message);
    }
    if (result.kind === 'answered') return request.mode === 'navigate' ? toNavigation(result.response) : result.response;
    if (result.kind === 'not-stored') return notStored(result.error, request);
    if (request.mode === 'navigate') {
      // The session ended: the person is shown the sign-in page, and the form post goes once they are back.
      return result.signIn ? Response.redirect(result.signIn, 303) : formSaved(result.entry, request, this.#options.formSavedUrl);
    }
    // A create or an edit on a `collections` path is answered as the server would answer it.
    const answer = this.#identities?.answerFor(result.entry, result.body);
    if (answer) return answer;
    if (this.#options.whenQueued === 'reject') return Response.error();
    return queued(result.entry);
  }

  /**
   * Handles one write from a page: stores it (and, if its lane is free, claims it for its
   * first attempt in the same transaction), then waits up to timeoutMs for its answer.
   */
  async write(request: Request, waitUntil: (promise: Promise<unknown>) => void, madeBy?: string): Promise<WriteResult> {
    const { store, now, online } = this.#deps;
    await this.#knowUser();
    const user = this.#user;
    let lane = userLane(laneOf(request, this.#hooks.lane, this.#deps.origin), user);
    const draft = await toDraft(request, lane, madeBy);
    if (user !== undefined) draft.user = user;
    if (this.#identities) {
      const provisional = this.#identities.forCreate(draft);
      if (provisional) draft.provisional = provisional;
      // A write naming a create still waiting goes behind it, in its lane.
      lane = draft.lane = (await this.#identities.laneFor(draft)) ?? lane;
      // A DELETE of a thing whose create was never tried: neither is sent.
      const deleted = await this.#identities.createDeletedBy(draft);
      const withdrawn = deleted && (await this.#withdrawCreate(deleted));
      if (withdrawn) return { kind: 'answered', response: withdrawn };
    }
    const secrets = takeCredentials(draft, this.#options.credentialHeaders);
    if (this.#policyOf(draft.url) === 'merge') await this.#attachBase(draft);
    const offline = !online();
    const claim = !offline && this.#freeSlots() > 0 && !this.#claimingLanes.has(lane) && !this.#sendingIn(lane);
    if (claim) this.#claimingLanes.add(lane);
    // Answers not yet persisted ride along in this write's transaction.
    const settled = this.#committing ? [] : this.#changes.splice(0);
    let added: Added;
    try {
      // Sealed before the transaction: WebCrypto's promises would let IndexedDB end it.
      if (this.#keys) draft.sealed = await this.#keys.sealRequest(draft.request, user);
      added = await store.add(draft, now(), claim ? { owner: this.#owner, timeoutMs: this.#options.timeoutMs } : undefined, settled, this.#folds(draft));
    } catch (error) {
      if (claim) this.#claimingLanes.delete(lane);
      this.#changes.unshift(...settled);
      // Storage refused (quota, private mode, blocked), or no key to seal it with: send the
      // write as the app would have, and say so loudly, rather than lose it or keep it
      // readable. Nothing of it was stored: one transaction. If that send fails too, the
      // page is told, never that it was queued.
      console.error('[sw-outbox] could not keep this write on this device, so it is sent once without the outbox:', draft.method, draft.url, error);
      this.#publish({ type: 'storage-full', kept: false, error: describe(error) }, this.#counts);
      try {
        return { kind: 'answered', response: await this.#deps.fetch(toRequest(draft, { ...draft.request, headers: [...draft.request.headers, ...secrets] })) };
      } catch (failed) {
        return { kind: 'not-stored', error: `${describe(error)}; sent at once instead, which failed: ${describe(failed)}` };
      }
    }
    const { transition, counts } = added;
    const entry = transition.entry;
    if (claim) this.#claimingLanes.delete(lane);
    this.#counts = counts;
    this.#credentials.hold(entry.id, secrets);
    const answer = new Promise<WaiterAnswer>((resolve) => this.#waiters.set(entry.id, { lane, resolve }));
    if (entry.state === 'sending') {
      this.#inFlight.set(entry.id, lane);
      // The transaction gave the client id, so the request goes out before anything below.
      waitUntil(this.#run({ entry, request: draft.request }, added.clientId));
    }
    // After the request is on its way: nothing but the write-ahead record stands before it.
    for (const change of settled) this.#publishAll(change.transition.events, counts);
    this.#publishAll(transition.events, counts);
    if (added.folded) {
      // Its page, if one still waits, gets the queued answer: the write lives on in this one.
      this.#answer(added.folded.id, undefined);
      this.#credentials.drop(added.folded.id);
      this.#publish({ type: 'folded', entry: toMeta(added.folded), into: entry.id }, counts);
    }
    this.#deps.log('queued', entry.method, entry.url, `#${entry.id}`, lane);
    if (entry.state === 'pending') {
      if (offline) {
        // The device says it is offline: no attempt, no wait. The sync event, the page's
        // online event or the next write after reconnecting will send it.
        this.#answer(entry.id, undefined);
        this.#registerSync();
      } else {
        waitUntil(this.replay('write'));
      }
    }
    const cancelTimer = this.#deps.timer(() => this.#answer(entry.id, undefined), this.#options.timeoutMs);
    const { response, signIn } = await answer;
    cancelTimer();
    return response ? { kind: 'answered', response } : { kind: 'kept', entry, body: draft.request.body, ...(signIn ? { signIn } : {}) };
  }

  /**
   * Sends what is due, keeping every free lane busy up to `concurrency`. Resolves once
   * this worker has nothing more to send now (its timers and triggers take it from there).
   */
  replay(trigger: Trigger): Promise<void> {
    // A new worker fetches the device's public key, if it has none yet, while it may be online.
    if (trigger === 'start' && this.#keys) void this.#prepareKey();
    // Provisional identities are kept as long as a write may wait (maxAgeMs), then forgotten.
    if (trigger === 'start' && this.#identities) void this.#deps.store.forgetIdentities(this.#deps.now() - this.#options.maxAgeMs).catch(() => {});
    // A new worker with a credentials hook can get fresh ones itself: what waited for them goes again.
    if (trigger === 'start' && this.#hooks.credentials) return this.credentialsChanged();
    if (FORCING.has(trigger)) {
      this.#force = true;
      this.#forcedAt = this.#deps.now();
    }
    this.#wanted = true;
    void this.#pump();
    if (!this.#committing && this.#inFlight.size === 0 && this.#changes.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * A Background Sync event. It fails while writes still wait, so that the browser
   * schedules another sync event later (Chromium: 5 and then 15 minutes).
   */
  async sync(): Promise<void> {
    this.#syncEvents += 1;
    this.#syncRegistered = false; // the browser fired it: a later wait needs a new one
    try {
      await this.replay('sync');
    } finally {
      this.#syncEvents -= 1;
    }
    if (this.#counts.pending > 0) throw new Error(`sw-outbox: ${this.#counts.pending} writes still wait`);
  }

  /** Counts, the first `limit` entries, dead letters and lanes: metadata only. */
  async snapshot(limit: number): Promise<Snapshot> {
    await this.#flush();
    const [snapshot, storage] = await Promise.all([this.#deps.store.snapshot(limit, this.#deps.now()), this.#deps.storage?.().catch(() => null) ?? null]);
    this.#counts = snapshot.counts;
    return { ...snapshot, storage };
  }

  /** The first `limit` waiting writes in order, with their bodies if asked; `mine` says which `page` made. */
  async pending(limit: number, bodies: boolean, page?: string): Promise<PendingWrite[]> {
    await this.#flush();
    const keys = this.#keys;
    return this.#deps.store.pending(limit, bodies, page, keys && ((record) => keys.openRequest(record).catch(() => undefined)));
  }

  /**
   * Puts a dead letter back at the tail of its lane, under the same id, and replays.
   * Resolves with the entry once that replay is over, as a page's replay does.
   */
  async retry(id: number): Promise<EntryMeta> {
    await this.#flush();
    const { transition, counts } = await this.#deps.store.retry(id, this.#deps.now());
    this.#counts = counts;
    this.#publishAll(transition.events, counts);
    await this.replay('page');
    return toMeta(transition.entry);
  }

  /** Deletes a dead letter for good. */
  async discard(id: number): Promise<void> {
    await this.#flush();
    const { transition, counts } = await this.#deps.store.discard(id);
    this.#counts = counts;
    this.#publishAll(transition.events, counts);
  }

  /**
   * Gives up on a write that waits (one being sent cannot be stopped): it becomes a dead
   * letter with reason `cancelled`, which the app can then discard or retry. The writes
   * behind it in its lane go on.
   */
  async cancel(id: number): Promise<void> {
    await this.#flush();
    const { transition, counts } = await this.#deps.store.cancel(id, this.#deps.now());
    this.#credentials.drop(id);
    this.#counts = counts;
    this.#answer(id, undefined);
    this.#publishAll(transition.events, counts);
    if (counts.pending === 0) this.#publish({ type: 'drained' }, counts);
    void this.replay('timer');
  }

  /**
   * A conflict as a page shows it: the entry, the write's body ("ours") and the server's
   * current representation ("theirs"): from the conflict's answer, else a GET of the URL.
   */
  async conflict(id: number): Promise<ConflictDetails> {
    await this.#flush();
    const { entry, request } = await this.#readConflict(id);
    return details(entry, request, (await this.#current(entry, request)).theirs);
  }

  /**
   * Settles a conflict as the app chose. `{ keep: 'theirs' }` drops the write (reported as
   * superseded); `{ keep: 'mine' }`, `{ body }` and `{ json }` send it again, in its place
   * at the head of its lane, with a new key and If-Match on the current version: the
   * conflict's ETag, else a GET's. Resolves with the entry once that replay is over
   * (undefined when dropped), as retry does.
   */
  async resolve(id: number, resolution: Resolution): Promise<EntryMeta | undefined> {
    const { how, body } = readResolution(resolution);
    await this.#flush();
    const { entry, request } = await this.#readConflict(id);
    const etag = how === 'theirs' ? undefined : (await this.#current(entry, request)).etag;
    return this.#resolveAs(entry, request, how, etag, body);
  }

  /**
   * Keeps a GET's or a write's JSON answer with its ETag, on a `merge` path, as a version
   * a later conflict may be merged from. Reads a copy; never fails the answer.
   */
  async keepRepresentation(url: string, response: Response): Promise<void> {
    const etag = response.headers.get('ETag');
    if (!response.ok || !etag || this.#policyOf(url) !== 'merge' || !/json/i.test(response.headers.get('Content-Type') ?? '')) return;
    try {
      const text = await response.clone().text();
      if (text.length > MAX_REPRESENTATION_CHARS) return;
      const body = JSON.parse(text) as Json;
      const kept = this.#keys ? { sealed: await this.#keys.seal(new TextEncoder().encode(text), this.#user) } : { body };
      await this.#deps.store.keepRepresentation({ url, etag, at: this.#deps.now(), ...kept }, MAX_REPRESENTATIONS);
    } catch (error) {
      this.#deps.log('could not keep a representation of', url, error);
    }
  }

  async #resolveAs(entry: ConflictEntry, request: StoredRequest, how: 'mine' | 'theirs' | 'body' | 'merged', etag: string | undefined, body?: ArrayBuffer): Promise<EntryMeta | undefined> {
    const { transition, counts } = await this.#deps.store.resolve(entry, await this.#sealed(resolved(entry, request, how, this.#deps.now(), etag, body), entry.user));
    if (!transition.entry) this.#credentials.drop(entry.id);
    this.#counts = counts;
    this.#publishAll(transition.events, counts);
    await this.replay('page');
    return transition.entry ? toMeta(transition.entry) : undefined;
  }

  /**
   * The current version: the conflict's answer when it gave both the representation and
   * its ETag, else a GET of the URL (whose two go together).
   */
  async #current(entry: ConflictEntry, request: StoredRequest): Promise<{ theirs?: Json; etag?: string }> {
    if (request.theirs !== undefined && entry.answer.etag !== undefined) return { theirs: request.theirs, etag: entry.answer.etag };
    const current = await fetchCurrent(this.#deps.fetch, entry.url, await this.#credentials.addTo(entry, request));
    const theirs = current.body ?? request.theirs;
    const etag = current.etag ?? entry.answer.etag;
    return { ...(theirs === undefined ? {} : { theirs }), ...(etag === undefined ? {} : { etag }) };
  }

  /** The policy of a path: the first of merge, keepTheirs, keepMine that lists it, else ask. */
  #policyOf(url: string): ConflictPolicy {
    if (this.#policyPaths.length === 0) return 'ask'; // no URL parsed on the write path
    const { pathname } = new URL(url);
    return this.#policyPaths.find(([, test]) => test(pathname))?.[0] ?? 'ask';
  }

  /** On a `merge` path, the representation a write's If-Match names goes with it, if the outbox kept one. */
  async #attachBase(draft: Draft): Promise<void> {
    const ifMatch = draft.request.headers.find(([name]) => name === 'if-match')?.[1];
    if (!ifMatch) return;
    const base = await this.#deps.store.representation(draft.url, ifMatch).catch(() => undefined);
    if (!base) return;
    if ('body' in base) draft.request.base = base.body;
    // Sealed: opened only with a private key this worker holds already (no network on the write path).
    else if (this.#keys) {
      const text = await this.#keys.openIfHeld(base.sealed);
      if (text) draft.request.base = JSON.parse(new TextDecoder().decode(text)) as Json;
    }
  }

  /**
   * A conflict just came: the `resolve` hook, else its path's policy, may settle it at
   * once. What they cannot (ask, a merge with clashes or no base) waits for the page.
   */
  async #settleConflict(seen: ConflictEntry): Promise<void> {
    try {
      const { entry, request } = await this.#readConflict(seen.id);
      // The current version is asked for (a GET, when the answer lacked it) once, and only if needed.
      let current: Promise<{ theirs?: Json; etag?: string }> | undefined;
      const currentVersion = () => (current ??= this.#current(entry, request));
      const hook = this.#hooks.resolve;
      const decided = (hook ? await hook(details(entry, request, (await currentVersion()).theirs)) : undefined) ?? this.#policyOf(entry.url);
      if (decided === 'ask') return;
      if (decided === 'merge') return await this.#merge(entry, request, await currentVersion());
      const { how, body } = readResolution(decided === 'mine' || decided === 'theirs' ? { keep: decided } : decided);
      await this.#resolveAs(entry, request, how, how === 'theirs' ? undefined : (await currentVersion()).etag, body);
    } catch (error) {
      this.#deps.log(`#${seen.id} conflict left to the app:`, error);
    }
  }

  /** The `merge` policy: a clean three-way merge is sent in the write's place; anything else is left to the page. */
  async #merge(entry: ConflictEntry, request: StoredRequest, { theirs, etag }: { theirs?: Json; etag?: string }): Promise<void> {
    const merged = theirs === undefined ? undefined : mergeConflict(entry.method, request, theirs, this.#options.mergeIdKey);
    if (merged === undefined || 'clashes' in merged) {
      this.#deps.log(`#${entry.id} not merged:`, merged ? `both changed ${merged.clashes.join(', ')}` : 'no base or no current version known');
      return;
    }
    await this.#resolveAs(entry, request, 'merged', etag, encode(JSON.stringify(merged.body)));
  }

  /**
   * From now on, writes are `user`'s: they go in lanes of that user's own, carry
   * `Outbox-User`, and are sent only while that user is signed in. Writes the user left
   * at an earlier sign-out are sent now. Signing in another user signs the first out,
   * keeping their writes.
   */
  async signIn(user: string): Promise<void> {
    checkUser(user);
    await this.#flush();
    await this.#knowUser();
    this.#user = user;
    this.#counts = await this.#deps.store.setUser(user);
    // Awaited, so that the key is on the device before the page goes on (and the worker lives until it is).
    if (this.#keys) await this.#prepareKey();
    this.#publish({ type: 'user-changed', user }, this.#counts);
    await this.replay('page');
  }

  /**
   * Signs the user out. Their waiting writes are kept for their next sign-in (`keep`,
   * the default), sent first (`flush`: as many as can be within timeoutMs, the rest kept),
   * or erased, bodies and all (`purge`). Either way no one else sends or sees them.
   */
  async signOut(pending: SignOutPending = 'keep', timeoutMs = DEFAULT_FLUSH_MS): Promise<SignOutResult> {
    await this.#flush();
    await this.#knowUser();
    const user = this.#user;
    const result: SignOutResult = { sent: 0, kept: 0, purged: 0 };
    if (user === undefined) return result;
    const { store, now } = this.#deps;
    if (pending === 'flush') {
      const before = await store.waitingFor(user);
      const deadline = now() + timeoutMs;
      // Each replay sends what is due; what waits for the network or the server is asked again until the deadline.
      let left = before;
      while (left > 0 && now() < deadline) {
        await this.replay('page');
        await this.#flush();
        left = await store.waitingFor(user);
        if (left > 0) await new Promise<void>((resolve) => this.#deps.timer(resolve, Math.min(FLUSH_POLL_MS, Math.max(0, deadline - now()))));
      }
      result.sent = before - left;
    }
    // From here on nothing of theirs is claimed.
    this.#user = undefined;
    if (pending === 'purge') {
      // Nothing of theirs may be mid-send: let attempts under way end, then delete all.
      while (this.#inFlight.size > 0) await this.replay('timer');
      const purged = await store.purge(user);
      for (const id of purged) this.#credentials.drop(id);
      result.purged = purged.length;
      // Crypto-erase as well: the key is revoked, so no copy of these writes can be read anywhere.
      await this.#keys?.revoke(user);
    }
    // The next user must not read this one's writes with a key fetched in their session.
    this.#keys?.forgetPrivateKeys();
    result.kept = await store.waitingFor(user);
    this.#counts = await store.setUser(undefined);
    this.#publish({ type: 'user-changed', user: null }, this.#counts);
    return result;
  }

  /**
   * Credentials changed (a sign-in, a refreshed token): every write waiting for them
   * (`needs-auth`) is due again, and the outbox replays.
   */
  async credentialsChanged(): Promise<void> {
    // Forget what this worker holds: the credentials changed, so those held may be stale
    // (a token refreshed while offline), and each write's next attempt asks again.
    this.#credentials.forgetAll();
    this.#offeredAt = this.#deps.now();
    await this.#renewNeedsAuth();
  }

  /** Every write waiting for credentials (`needs-auth`) is due again, and the outbox replays. */
  async #renewNeedsAuth(): Promise<void> {
    await this.#flush();
    const { transitions, counts } = await this.#deps.store.renewCredentials((entry) => renewed(entry, this.#deps.now()));
    this.#counts = counts;
    for (const transition of transitions) this.#publishAll(transition.events, counts);
    await this.replay('page');
  }

  /**
   * A page of the app is opening (a navigation through the worker): the person may have
   * signed in again, so the writes waiting for a session or credentials (`needs-auth`) go
   * again, with no app code. At most once a second (a navigation to the sign-in page itself
   * costs one attempt, refused as before); one within the second is put off to its end.
   */
  pageOpened(): void {
    const wait = this.#pageOpenedAt + PAGE_OPENED_INTERVAL_MS - this.#deps.now();
    if (wait <= 0) {
      this.#pageOpenedAt = this.#deps.now();
      this.credentialsOffered();
    } else if (!this.#pageOpenedLater) {
      // Put off, not dropped: the page opening after a quick sign-in is the one that counts.
      this.#pageOpenedLater = true;
      this.#deps.timer(() => {
        this.#pageOpenedLater = false;
        this.pageOpened();
      }, wait);
    }
  }

  /**
   * A page can give credentials now (its page helper registered `onCredentials`, or took
   * control after a hard reload): the writes waiting for them (`needs-auth`) go again. The
   * credentials this worker holds stay: a page appearing says nothing about a token, and
   * those refused were forgotten already.
   */
  credentialsOffered(): void {
    this.#offeredAt = this.#deps.now();
    // Nothing is read or written while nothing waits.
    this.#verifyCounts()
      .then(() => (this.#counts.pending > 0 ? this.#renewNeedsAuth() : undefined))
      .catch((error: unknown) => this.#deps.log('could not send the writes waiting for credentials:', error));
  }

  /**
   * Refused with the credentials this worker held since the write was made: they may be
   * stale (a token the app refreshed without saying so). The hook or the pages are asked at
   * once, and if they give others, the writes waiting for credentials go again, with no
   * wait for a trigger. Those they give are not held, so a refusal of them waits for one.
   */
  async #askAgain(entry: Entry, names: string[], refused: [string, string][]): Promise<void> {
    if (await this.#credentials.othersThan(entry, names, refused)) await this.#renewNeedsAuth();
  }

  /**
   * Takes over writes another queue kept (a Workbox queue's: see workbox-migration.ts):
   * each goes at the tail of its lane in the order given, with `createdAt` its own time
   * (so maxAgeMs counts from then), and is sent by the next replay. A write whose key is
   * already in the outbox is skipped: a migration cut short can run again.
   */
  async adopt(writes: { draft: Draft; createdAt: number }[]): Promise<EntryMeta[]> {
    await this.#flush();
    const { store } = this.#deps;
    const kept = new Map<string, Set<string>>();
    const adopted: EntryMeta[] = [];
    for (const { draft, createdAt } of writes) {
      if (!kept.has(draft.lane)) kept.set(draft.lane, await store.liveKeys(draft.lane));
      if (kept.get(draft.lane)!.has(draft.idempotencyKey)) continue;
      // Workbox kept them on disk; the outbox does not: held in memory while this worker lives.
      const secrets = takeCredentials(draft, this.#options.credentialHeaders);
      if (this.#keys) draft.sealed = await this.#keys.sealRequest(draft.request, draft.user);
      const { transition, counts } = await store.add(draft, createdAt, undefined);
      this.#credentials.hold(transition.entry.id, secrets);
      this.#counts = counts;
      this.#publishAll(transition.events, counts);
      adopted.push(toMeta(transition.entry));
    }
    return adopted;
  }

  /**
   * A GET naming a provisional identity (option `collections`): sent to the real URL, or
   * answered from what the outbox knows; undefined when it names none (decision 0022).
   */
  async readProvisional(request: Request): Promise<Response | undefined> {
    if (!this.#identities) return undefined;
    return this.#identities.read(request, this.#deps.fetch, async (id) => {
      const kept = await this.#deps.store.request(id);
      if (!kept) return undefined;
      if (!isSealed(kept)) return kept.body;
      return this.#keys ? (await this.#keys.openRequest(kept).catch(() => undefined))?.body : undefined;
    });
  }

  /**
   * A JSON read under `reads` with this user's waiting writes applied, as the server will
   * apply them (decision 0023). A read from the cache takes every waiting write; one from
   * the network all but those being sent, which it may already contain. Says how many it
   * applied in `Outbox-Applied`; a read no waiting write touches is returned as it came.
   */
  async withWaitingWrites(request: Request, response: Response): Promise<Response> {
    if (!response.ok || !/json/i.test(response.headers.get('Content-Type') ?? '')) return response;
    await this.#verifyCounts();
    if (this.#counts.pending === 0) return response;
    const fromCache = response.headers.has(FROM_CACHE_HEADER);
    try {
      const listed = (await this.pending(MAX_OVERLAID_WRITES, true)).filter((write) => fromCache || write.state !== 'sending').map(toWaitingWrite);
      const waiting = this.#identities ? await this.#identities.known(listed) : listed;
      const read = JSON.parse(await response.clone().text()) as Json;
      const collection = this.#identities?.isCollection(request.url) || Array.isArray(read);
      const { body, applied, deleted } = overlay(read, request.url, waiting, collection, this.#options);
      if (applied === 0) return response;
      cancelBody(response);
      const headers = new Headers(response.headers);
      headers.set(APPLIED_HEADER, String(applied));
      headers.delete('Content-Length');
      headers.delete('ETag'); // the representation is no longer the server's
      if (!deleted) return new Response(JSON.stringify(body), { status: response.status, headers });
      const problem = { type: 'about:blank', title: 'Deleted on this device', status: 404, detail: `${request.url} is deleted by a write waiting in the outbox; the server will delete it once the write is sent.` };
      headers.set('Content-Type', 'application/problem+json');
      return new Response(JSON.stringify(problem), { status: 404, headers });
    } catch (error) {
      this.#deps.log('could not apply the waiting writes to', request.url, error);
      return response;
    }
  }

  /** Reads a page made before this worker controlled it: those under `reads` are cached now (a first visit). */
  async keepReads(urls: string[]): Promise<void> {
    await this.#deps.keepReads?.(urls.filter((url) => typeof url === 'string').slice(0, MAX_KEPT_READS));
  }

  /** The outbox's stable id (Outbox-Client-Id). */
  clientId(): Promise<string> {
    return this.#deps.store.clientId();
  }

  /** Whether a write may replace the last waiting write of its lane (option `fold`): the store decides if it does. */
  #folds(draft: Draft): boolean {
    // A sealed write cannot be read inside the store's transaction, where folding happens.
    if (this.#keys) return false;
    return (draft.method === 'PUT' || draft.method === 'PATCH' || draft.method === 'DELETE') && this.#foldPaths.some((test) => test(new URL(draft.url).pathname));
  }

  /** Runs one claimed attempt, hands a waiting page its answer, and queues the transition. */
  async #run({ entry, request }: Claimed, knownClientId?: string): Promise<void> {
    const { store, now, random, fetch, log } = this.#deps;
    const clientId = knownClientId ?? (await store.clientId());
    // Only a sealed request costs an await more on the way out.
    const opened = isSealed(request) ? await this.#openSealed(request) : { request };
    if (opened.revoked) return this.#settleUnsent(entry, 'undecryptable', opened.revoked);
    const plain = opened.request;
    const held = this.#credentials.held(entry.id);
    // A write naming provisional identities goes to the real ones, or waits for them, or, if they never come, nowhere.
    const resolved = plain && this.#identities ? await this.#identities.resolve(entry, plain) : plain && { kind: 'send' as const, url: entry.url, request: plain };
    if (resolved?.kind === 'never') return this.#settleUnsent(entry, 'no-identity', resolved.why);
    const result: AttemptResult = !resolved
      ? opened.result!
      : resolved.kind === 'wait'
        ? { kind: 'network-error', message: `not sent yet: ${resolved.why}` }
        : await sendAttempt(fetch, { ...entry, url: resolved.url }, await this.#credentials.addTo(entry, resolved.request), { clientId, seq: entry.seq, lane: entry.lane, user: entry.user }, this.#options.timeoutMs, this.#deps.timer);
    const at = now();
    const origin = new URL(entry.url).origin;
    const othersAnswered = (this.#answeredAt.get(origin) ?? -Infinity) > at - FAILING_ALONE_WINDOW_MS;
    if (result.kind === 'response' && plain) this.#answeredAt.set(origin, at);
    const answer = answered(entry, result, { policy: this.#options, now: at, random, pageWaiting: this.#waiters.has(entry.id), othersAnswered, ...(plain ? { request: plain } : {}) });
    // A conflict's "theirs" is kept beside the write: sealed too.
    let transition = answer.request && this.#keys ? await this.#sealed(answer, entry.user) : answer;
    const { verdict } = transition;
    // A create's answer names its real identity: stored as it settles, before anything behind it is claimed.
    const created = verdict.kind === 'settle' && entry.provisional ? verdict.response.clone() : undefined;
    // Settled, given up, or refused: these credentials are of no more use. (A conflict
    // keeps them, for the resolution it is sent again with.)
    if (verdict.kind === 'needs-auth') this.#credentials.refused(entry.id);
    if (verdict.kind === 'settle' || verdict.kind === 'dead') this.#credentials.drop(entry.id);
    log(`#${entry.id}`, entry.method, entry.url, verdict.response?.status ?? result.kind, '->', verdict.kind);
    // The page first: should the worker die before the commit, the write goes again with
    // the same key, and the server answers it from its store.
    if (verdict.kind === 'settle' && this.#policyPaths.length > 0) void this.keepRepresentation(entry.url, verdict.response);
    if (verdict.kind === 'settle' && verdict.response.ok && resolved?.kind === 'send') this.#deps.delivered?.(resolved.url);
    if (transition.entry === null) this.#answer(entry.id, verdict.response);
    else {
      cancelBody(verdict.response);
      this.#answer(entry.id, undefined, verdict.kind === 'needs-auth' && verdict.signIn ? verdict.response.url : undefined);
    }
    if (created && this.#identities) transition = await this.#identified(transition, entry, created, at);
    this.#inFlight.delete(entry.id);
    if (verdict.kind === 'retry') {
      // Order holds: nothing behind this entry goes before it, so its lane's pages are told now.
      this.#releaseLane(entry.lane);
      this.#registerSync();
      // A sign that the network is back came while this attempt was failing for want of it
      // (the browser's online event races its network coming up): that sign is not lost.
      if (result.kind === 'network-error' && this.#forcedAt > entry.attemptAt) this.#force = true;
    }
    const change: Change = { id: entry.id, transition, was: entry };
    this.#changes.push(change);
    if (verdict.kind === 'needs-auth' && this.#offeredAt > entry.attemptAt) {
      // Credentials could have changed while this attempt was out (a page opened, or
      // offered them, as it asked): that sign is not lost, and the write goes again.
      void this.#renewNeedsAuth().catch((error: unknown) => log('could not send the writes waiting for credentials:', error));
    } else if (verdict.kind === 'needs-auth' && verdict.signIn !== true && held && plain?.credentialNames) {
      void this.#askAgain(entry, plain.credentialNames, held).catch((error: unknown) => log('could not ask again for credentials:', error));
    }
    // A settled write with nothing behind it (the store counts it as the only live one):
    // its bookkeeping may wait a moment for the next write, whose transaction carries it.
    // That write had the lane to itself, so nothing is left to claim: a commit now would
    // only hold up the write after it (transactions on one store run one at a time).
    if (transition.entry === null && this.#counts.pending <= 1 && this.#waiters.size === 0 && this.#inFlight.size === 0) {
      await new Promise<void>((resolve) => this.#deps.timer(resolve, SETTLE_WINDOW_MS));
      if (!this.#changes.includes(change)) return;
    }
    this.#wanted = true;
    await this.#pump();
  }

  /**
   * Withdraws a create never tried, and the untried writes to it, for a DELETE of it: the
   * page gets 204, as the server would have answered; undefined when the create is on its
   * way after all (the DELETE is then kept, and sent after it).
   */
  async #withdrawCreate(identity: IdentityRecord): Promise<Response | undefined> {
    await this.#flush();
    const result = await this.#deps.store.withdrawCreate(identity.createdBy, identity.url, 'deleted on this device before it was sent');
    if (!result) return undefined;
    this.#counts = result.counts;
    for (const entry of result.withdrawn) {
      this.#answer(entry.id, undefined);
      this.#credentials.drop(entry.id);
      this.#publish({ type: 'discarded', entry: toMeta(entry) }, result.counts);
    }
    if (result.counts.pending === 0) this.#publish({ type: 'drained' }, result.counts);
    this.#deps.log('withdrew', result.withdrawn.map((entry) => `#${entry.id}`).join(' '), 'for a DELETE of', identity.url);
    return new Response(null, { status: 204, headers: { [WITHDRAWN_HEADER]: '?1' } });
  }

  /** A settled create's transition, with its identity record and, when the answer named one, the `identified` event. */
  async #identified<T extends Transition>(transition: T, entry: SendingEntry, response: Response, now: number): Promise<T> {
    const identity = await this.#identities!.identify(entry, response, now);
    if (!identity) return transition;
    this.#deps.log(`#${entry.id}`, entry.provisional!.id, '->', identity.real?.url ?? `no identity: ${identity.lost}`);
    const events: StatusEvent[] = identity.real ? [{ type: 'identified', entry: toMeta(entry), provisional: entry.provisional!, real: identity.real }] : [];
    return { ...transition, identity, events: [...transition.events, ...events] };
  }

  /**
   * A claimed sealed request, opened to be sent. Without its key it is not sent: the key
   * endpoint's refusal (401, 403) stands as the attempt's answer, so the write waits for
   * credentials; no answer is an attempt without one; revoked, it can never be read.
   */
  async #openSealed(record: SealedRequest): Promise<{ request?: StoredRequest; result?: AttemptResult; revoked?: string }> {
    if (!this.#keys) return { revoked: 'it was sealed at rest, and this worker has no encryptionKeyUrl to open it with' };
    try {
      return { request: await this.#keys.openRequest(record) };
    } catch (error) {
      if (!(error instanceof KeyUnavailable)) return { revoked: `it could not be decrypted (${describe(error)})` };
      if (error.why === 'revoked') return { revoked: error.message };
      if (error.why === 'refused' && error.response) return { result: { kind: 'response', response: error.response } };
      return { result: { kind: 'network-error', message: `its device key could not be had: ${error.message}` } };
    }
  }

  /** A write that can never be read (its device key revoked), or never sent where it meant, becomes a dead letter, unsent; its lane goes on. */
  async #settleUnsent(entry: SendingEntry, code: 'undecryptable' | 'no-identity', why: string): Promise<void> {
    const transition = unsendable(entry, this.#deps.now(), code, `not sent: ${why}`);
    this.#deps.log(`#${entry.id}`, entry.method, entry.url, '->', code);
    this.#credentials.drop(entry.id);
    this.#answer(entry.id, undefined);
    this.#inFlight.delete(entry.id);
    this.#changes.push({ id: entry.id, transition, was: entry });
    this.#wanted = true;
    await this.#pump();
  }

  /** A transition whose request is to be stored, with that request sealed when the outbox encrypts at rest. Unsealable: it is stored without the request change. */
  async #sealed<T extends Transition>(transition: T, user: string | undefined): Promise<T> {
    const request = transition.request;
    if (!this.#keys || !request || isSealed(request)) return transition;
    try {
      return { ...transition, request: await this.#keys.sealRequest(request, user) };
    } catch (error) {
      this.#deps.log('could not seal; the request is kept as it was:', error);
      const { request: _dropped, ...rest } = transition;
      return rest as T;
    }
  }

  /** A conflict with its request read (opened, if sealed: the page must see "ours"). */
  async #readConflict(id: number): Promise<{ entry: ConflictEntry; request: StoredRequest }> {
    const { entry, request } = await this.#deps.store.conflict(id);
    if (!isSealed(request)) return { entry, request };
    if (!this.#keys) throw new OutboxError('undecryptable', `sw-outbox entry ${id} is sealed at rest, and this worker has no encryptionKeyUrl: give it the option it was stored with.`);
    try {
      return { entry, request: await this.#keys.openRequest(request) };
    } catch (error) {
      throw new OutboxError('undecryptable', `sw-outbox entry ${id} is sealed at rest and cannot be read now: ${describe(error)}. Try again online and signed in as its user.`);
    }
  }

  /** Fetches the signed-in user's public device key now, if the device has none, so that writes made offline later can be sealed. */
  async #prepareKey(): Promise<void> {
    try {
      await this.#knowUser();
      await this.#keys?.prepare(this.#user);
    } catch (error) {
      this.#deps.log('no device key yet (writes are sealed once one is had):', error);
    }
  }

  /** Persists the transitions waiting for a commit (the settle window's), so that what follows reads them. */
  async #flush(): Promise<void> {
    if (this.#changes.length > 0 || this.#committing) await this.#pump();
  }

  /** Commits what waits and claims what is due, one transaction at a time, until neither is left. */
  #pump(): Promise<void> {
    this.#committing ??= this.#commitLoop();
    return this.#committing;
  }

  async #commitLoop(): Promise<void> {
    const { store, now } = this.#deps;
    await this.#verifyCounts();
    for (;;) {
      const slots = this.#freeSlots();
      const claim = this.#wanted && slots > 0;
      if (this.#changes.length === 0 && !claim) {
        // Checked and cleared in one step: a change queued after this starts a new loop.
        this.#committing = undefined;
        if (this.#inFlight.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
        return;
      }
      const changes = this.#changes.splice(0);
      const rules: ClaimRules = { user: this.#user, now: now(), maxAgeMs: this.#options.maxAgeMs, slots, force: this.#force, owner: this.#owner, timeoutMs: this.#options.timeoutMs, goneOwners: this.#goneOwners };
      this.#wanted = false;
      this.#force = false;
      let result: Awaited<ReturnType<OutboxStore['commit']>>;
      if (claim) this.#claimingSlots = slots;
      try {
        result = await store.commit(changes, claim ? rules : undefined);
      } catch (error) {
        this.#claimingSlots = 0;
        if (isQuotaError(error) && claim) {
          await this.#sendWithoutRoom(changes, rules, error);
          continue;
        }
        // Kept in memory and tried again: the entries stay as they were on disk, so
        // nothing is lost if this worker dies meanwhile (each is sent again, same key).
        console.error('[sw-outbox] could not update the outbox in IndexedDB; trying again shortly:', error);
        this.#changes.unshift(...changes);
        this.#committing = undefined;
        this.#wakeAt(now() + this.#options.retryBaseMs);
        for (const resolve of this.#idle.splice(0)) resolve();
        return;
      }
      this.#claimingSlots = 0;
      this.#counts = result.counts;
      let settled = false;
      for (const transition of result.applied) {
        this.#publishAll(transition.events, result.counts);
        if (transition.events.some((event) => event.type === 'sent' || event.type === 'dead-lettered' || event.type === 'conflict')) settled = true;
        if (transition.entry?.state === 'conflict' && (this.#hooks.resolve || this.#policyPaths.length > 0)) void this.#settleConflict(transition.entry);
      }
      for (const claimed of result.claimed) {
        this.#inFlight.set(claimed.entry.id, claimed.entry.lane);
        void this.#run(claimed);
      }
      for (const lane of result.blockedLanes) this.#releaseLane(lane);
      if (result.foreign.length > 0) await this.#checkOwners(result.foreign);
      if (settled && result.counts.pending === 0) {
        this.#cancelWake?.();
        this.#publish({ type: 'drained' }, result.counts);
      } else if (result.nextDueAt !== undefined) {
        this.#wakeAt(result.nextDueAt);
      }
    }
  }

  /**
   * The disk has no room for a claim's bookkeeping: what can be persisted is (a settle
   * deletes, which needs no room), and the due heads are sent anyway, their attempts
   * unrecorded. A write the outbox accepted is delivered even when storage is full.
   */
  async #sendWithoutRoom(changes: Change[], rules: ClaimRules, error: unknown): Promise<void> {
    const { store, log } = this.#deps;
    this.#publish({ type: 'storage-full', kept: true, error: describe(error) }, this.#counts);
    try {
      if (changes.length > 0) {
        const result = await store.commit(changes);
        this.#counts = result.counts;
        for (const transition of result.applied) this.#publishAll(transition.events, result.counts);
      }
    } catch (again) {
      log('could not persist answers either; they wait in memory:', again);
      this.#changes.unshift(...changes);
      this.#wakeAt(rules.now + this.#options.retryBaseMs);
    }
    const due = await store.peekDue({ ...rules, slots: this.#freeSlots() }).catch(() => []);
    for (const claimed of due.filter(({ entry }) => !this.#inFlight.has(entry.id))) {
      this.#inFlight.set(claimed.entry.id, claimed.entry.lane);
      this.#publishAll([{ type: 'sending', entry: toMeta(claimed.entry), answerBy: claimed.entry.attemptAt + this.#options.timeoutMs }], this.#counts);
      void this.#run(claimed);
    }
  }

  /**
   * Heads that another worker of the origin is sending hold their lanes while it lives:
   * it holds a Web Lock named after it. One whose lock is gone died mid-send, and its
   * entries are claimed again (the same key, so the server applies it once).
   */
  async #checkOwners(foreign: { owner: string; attemptAt: number }[]): Promise<void> {
    const { locks, now } = this.#deps;
    const before = this.#goneOwners.size;
    if (locks) {
      const { held = [] } = await locks.query();
      const alive = new Set(held.map((lock) => lock.name));
      for (const { owner } of foreign) if (!alive.has(OWNER_LOCK + owner)) this.#goneOwners.add(owner);
    } else {
      for (const { owner, attemptAt } of foreign) if (attemptAt + this.#options.timeoutMs + ABANDONED_MARGIN_MS < now()) this.#goneOwners.add(owner);
    }
    if (this.#goneOwners.size > before) this.#wanted = true;
    else this.#wakeAt(Math.min(...foreign.map(({ attemptAt }) => attemptAt)) + this.#options.timeoutMs + ABANDONED_MARGIN_MS);
  }

  /** An attempt of this lane is under way in this worker (an answer pending). */
  #sendingIn(lane: string): boolean {
    for (const busy of this.#inFlight.values()) if (busy === lane) return true;
    return false;
  }

  #freeSlots(): number {
    return this.#options.concurrency - this.#inFlight.size - this.#claimingLanes.size - this.#claimingSlots;
  }

  /** Hands a waiting page its answer; an answer nobody waits for any more is dropped unread. */
  #answer(id: number, response: Response | undefined, signIn?: string): void {
    const waiter = this.#waiters.get(id);
    this.#waiters.delete(id);
    if (waiter) waiter.resolve({ response, signIn });
    else cancelBody(response);
  }

  /** Every page waiting on a write of this lane gets the queued answer: its write waits behind others. */
  #releaseLane(lane: string): void {
    for (const [id, waiter] of this.#waiters) if (waiter.lane === lane && !this.#inFlight.has(id)) this.#answer(id, undefined);
  }

  /** A timer for the next due entry, while this worker lives; other triggers cover the rest. */
  #wakeAt(at: number): void {
    this.#cancelWake?.();
    const delay = Math.min(Math.max(0, at - this.#deps.now()), MAX_TIMER_MS);
    this.#cancelWake = this.#deps.timer(() => void this.replay('timer'), delay);
  }

  /**
   * Asks for a sync event when the network is back, where Background Sync exists. Not
   * from inside a sync event: Chromium would fire the same tag again at once, a loop
   * while the server is down; the failed event is rescheduled by the browser instead.
   */
  #registerSync(): void {
    const { sync, log } = this.#deps;
    if (!sync || this.#syncEvents > 0 || this.#syncRegistered) return;
    this.#syncRegistered = true;
    sync.register(SYNC_TAG).catch((error: unknown) => {
      this.#syncRegistered = false;
      log('sync registration refused:', error);
    });
  }

  #publishAll(events: StatusEvent[], counts: Counts): void {
    for (const event of events) this.#publish(event, counts);
  }

  #publish(event: StatusEvent, counts: Counts): void {
    // Another user's writes are theirs alone: their pages see them once they sign in.
    if ('entry' in event && event.entry.user !== undefined && event.entry.user !== this.#user) return;
    this.#deps.publish(counts, event);
  }

  /** The counts as the store holds them, checked once per worker (see OutboxStore.verifyCounts). */
  #verifyCounts(): Promise<unknown> {
    this.#verified ??= Promise.all([this.#deps.store.verifyCounts(), this.#knowUser()]).then(([counts]) => (this.#counts = counts));
    return this.#verified.catch((error: unknown) => this.#deps.log('could not check the counts:', error));
  }

  #knowUser(): Promise<unknown> {
    this.#userKnown ??= this.#deps.store.user().then((user) => (this.#user = user));
    return this.#userKnown;
  }
}

/** A conflict as pages are shown it (see Outbox.conflict). */
function details(entry: ConflictEntry, request: StoredRequest, theirs: Json | undefined): ConflictDetails {
  return { entry: toMeta(entry), ours: oursOf(request), theirs, ...(request.base === undefined ? {} : { base: request.base }), contentType: contentTypeOf(request) };
}

function isQuotaError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'QuotaExceededError';
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A waiting write as the overlay reads it: its JSON body, if it has one. */
function toWaitingWrite(write: PendingWrite): WaitingWrite {
  let json: Json | undefined;
  if (write.body && /json/i.test(write.contentType ?? '')) {
    try {
      json = JSON.parse(new TextDecoder().decode(write.body)) as Json;
    } catch {
      json = undefined;
    }
  }
  return { method: write.method, url: write.url, json, contentType: write.contentType, ...(write.provisional ? { provisional: write.provisional } : {}) };
}
