import { WITHDRAWN_HEADER } from '../contract/http.js';
import { adopt } from './adoption.js';
import { Attempts } from './attempt.js';
import type { AtRest } from './at-rest.js';
import { BackgroundSync } from './background-sync.js';
import { Conflicts } from './conflicts.js';
import { Credentials } from './credentials.js';
import { isSealed, type ConflictEntry, type Draft, type Entry, type LiveEntry, type PendingEntry, type SendingEntry } from './entry.js';
import type { IdentityRecord } from './identities.js';
import { laneOf, userLane } from './lanes.js';
import { NeedsAuth } from './needs-auth.js';
import type { OutboxOptions } from './options.js';
import type { OutboxDeps, OutboxHooks, Trigger, WaiterAnswer, WriteResult } from './outbox-deps.js';
import { describe, OutboxError } from './outbox-error.js';
import type { Added, Claimed, Resent } from './outbox-store.js';
import { Owners } from './owners.js';
import { PageWaiters } from './page-waiters.js';
import { cancelBody, invalidLane, pageAnswer } from './page-answers.js';
import { type ConflictDetails, type Counts, type EntryMeta, type Resolution, type StatusEvent } from './protocol.js';
import { type PendingWrite, type SignOutPending, type SignOutResult, type Snapshot } from './commands.js';
import type { ProvisionalIdentities } from './provisional-identities.js';
import { feature } from './features.js';
import type { AttemptResult } from './retry-policy.js';
import { toPathTest } from './route-matcher.js';
import { Scheduler } from './scheduler.js';
import { takeCredentials, toDraft, toRequest } from './stored-request.js';
import { cancelled, deadLetter, discarded, renewed, retried, stillConflict, storageFull, toMeta, unsendable, type Change, type Committed, type Dispatched, type Transition } from './transitions.js';
import { DEFAULT_FLUSH_MS, Users } from './users.js';
import { WriteAhead } from './write-ahead.js';
import { ArrivalOrder, type Turn } from './arrival-order.js';

/** The triggers that give reason to think the network is back: an entry waiting only for the network is tried at once. */
const FORCING: ReadonlySet<Trigger> = new Set(['write', 'sync', 'page']);
/**
 * How long a settled write's bookkeeping waits for the next write to carry it: the next
 * write's one transaction then persists both (decision 0010). A worker that dies in the
 * meantime sends that write again with its key, and the server answers from its store.
 */
const SETTLE_WINDOW_MS = 25;
/** At most this many of a page's earlier reads are fetched into the cache at once. */
const MAX_KEPT_READS = 100;

/** An attempt's response; what it failed with, thrown. */
function responseOf(result: AttemptResult): Response {
  if (result.kind === 'response') return result.response;
  throw new Error(result.kind === 'timeout' ? 'no answer in time' : result.message);
}
/** Events by which an entry leaves the queue: when none is left after one, the outbox is drained. */
const LEAVING: ReadonlySet<StatusEvent['type']> = new Set(['sent', 'dead-lettered', 'conflict', 'discarded']);

/**
 * The outbox: keeps each write in IndexedDB before it is sent, sends each lane's writes
 * one at a time in sequence order and up to `concurrency` lanes at once, and decides after
 * each answer whether the write is settled, retried later, or a dead letter. Entry changes
 * come from sw/transitions.ts, are persisted by the store, and take effect in this worker
 * in one place, #dispatch. Conflicts, users, encryption at rest, provisional identities,
 * reads with the user's own writes and adoption are modules of their own, called from here.
 */
export class Outbox {
  readonly #options: OutboxOptions;
  /** The `fold` paths, as tests. */
  readonly #foldPaths: ((pathname: string) => boolean)[];
  readonly #hooks: OutboxHooks;
  readonly #deps: OutboxDeps;
  /** This worker and the others of the origin: whose attempt an entry being sent is. */
  readonly #owners: Owners;
  readonly #scheduler: Scheduler;

  #counts: Counts = { pending: 0, deadLetters: 0, conflicts: 0 };
  #verified: Promise<unknown> | undefined;
  /** The credential headers of writes: held in memory, else asked for; never stored (decision 0019). */
  readonly #credentials: Credentials;
  /** Encryption at rest (option encryptionKeyUrl): seals what is stored, opens what is sent. */
  readonly #atRest: AtRest | undefined;
  /** Provisional identities for creates on `collections` paths (decision 0022). */
  readonly #identities: ProvisionalIdentities | undefined;
  readonly #conflicts: Conflicts;
  readonly #needsAuth: NeedsAuth;
  readonly #users: Users;
  readonly #waiters = new PageWaiters();
  readonly #attempts: Attempts;
  /** How writes reach the store: those arriving together share a transaction. */
  readonly #writeAhead: WriteAhead;
  readonly #arrivals = new ArrivalOrder();
  /** When the last forcing trigger came (a sync event, a page's online signal, a new write). */
  #forcedAt = -Infinity;
  readonly #backgroundSync: BackgroundSync;

  constructor(options: OutboxOptions, hooks: OutboxHooks, deps: OutboxDeps) {
    this.#options = options;
    this.#foldPaths = options.fold.map(toPathTest);
    this.#hooks = hooks;
    this.#deps = deps;
    const { store, fetch, now, log } = deps;
    this.#credentials = new Credentials({ hook: hooks.credentials, pages: deps.askPages, names: options.credentialHeaders, log });
    this.#identities = options.collections.paths.length > 0 ? new (feature('collections').ProvisionalIdentities)(options.collections, store) : undefined;
    const keyUrl = options.encryptionKeyPath && new URL(options.encryptionKeyPath, deps.origin).href;
    this.#atRest = keyUrl === undefined ? undefined : new (feature('atRest').AtRest)({ url: keyUrl, fetch, log, db: () => store.db(), clientId: () => store.clientId(), credentials: () => this.#credentials.forKeyRequest(keyUrl) });
    const dispatch = (committed: Committed, ...events: StatusEvent[]) => this.#dispatch(committed, ...events);
    this.#users = new Users({ store, now, timer: deps.timer, atRest: this.#atRest, dispatch, replay: () => this.replay('page'), flush: () => this.#scheduler.flush(), inFlight: () => this.#scheduler.inFlight.size });
    this.#conflicts = new Conflicts({
      options,
      hook: hooks.resolve,
      store,
      fetch,
      credentials: this.#credentials,
      atRest: this.#atRest,
      now,
      log,
      user: () => this.#users.current,
      settle: (seen, transition) => this.#settleConflict(seen, transition),
    });
    this.#needsAuth = new NeedsAuth({
      credentials: this.#credentials,
      now,
      timer: deps.timer,
      log,
      anyWaiting: async () => {
        await this.#verifyCounts();
        return this.#counts.pending > 0;
      },
      renew: () => this.#renewNeedsAuth(),
    });
    this.#backgroundSync = new BackgroundSync(deps.sync, log);
    this.#attempts = new Attempts({
      deps,
      credentials: this.#credentials,
      atRest: this.#atRest,
      identities: this.#identities,
      // What an answer means for a retry: the retry options, and the sign-in pages.
      policy: { ...options.retry, signInPaths: options.signInPaths },
      timeoutMs: options.timeoutMs,
      pageWaiting: (id) => this.#waiters.has(id),
    });
    this.#writeAhead = new WriteAhead(store);
    this.#owners = new Owners(deps.locks, now, options.timeoutMs);
    this.#scheduler = new Scheduler({
      store,
      now,
      log,
      timer: deps.timer,
      concurrency: options.concurrency,
      commitRetryMs: options.retry.baseMs,
      rules: (slots, force) => ({ user: this.#users.current, now: now(), maxAgeMs: options.maxAgeMs, slots, force, owner: this.#owners.me, timeoutMs: options.timeoutMs, goneOwners: this.#owners.gone }),
      ready: () => this.#verifyCounts(),
      dispatch: (changes, ...events) => this.#dispatch(changes, ...events),
      start: (claimed) => void this.#run(claimed),
      blocked: (lane) => this.#waiters.releaseLane(lane, this.#scheduler.inFlight),
      foreign: (heads) => this.#owners.check(heads),
      wake: () => void this.replay('timer'),
    });
  }

  /**
   * The page's answer to one of its writes, for a fetch handler's respondWith (see
   * page-answers.ts). A write naming an invalid lane gets a 400 problem+json that says
   * why, and is not kept.
   */
  async handle(request: Request, waitUntil: (promise: Promise<unknown>) => void, madeBy?: string): Promise<Response> {
    let result: WriteResult;
    try {
      result = await this.write(request, waitUntil, madeBy);
    } catch (error) {
      if (!(error instanceof OutboxError && error.code === 'invalid-lane')) throw error;
      return invalidLane(error.message);
    }
    return pageAnswer(result, request, { whenQueued: this.#options.whenQueued, savedPath: this.#options.forms.savedPath }, (entry, body) => this.#identities?.answerFor(entry, body));
  }

  /**
   * Handles one write from a page: stores it (and, if its lane is free, claims it for its
   * first attempt in the same transaction), then waits up to timeoutMs for its answer.
   */
  async write(request: Request, waitUntil: (promise: Promise<unknown>) => void, madeBy?: string): Promise<WriteResult> {
    // Taken before any await: the writes reach the store in the order their fetch events came.
    const turn = this.#arrivals.take();
    try {
      return await this.#write(request, waitUntil, madeBy, turn);
    } finally {
      turn.pass(); // if it failed before the store had it
    }
  }

  async #write(request: Request, waitUntil: (promise: Promise<unknown>) => void, madeBy: string | undefined, turn: Turn): Promise<WriteResult> {
    const { store, now, online } = this.#deps;
    await this.#users.known();
    const user = this.#users.current;
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
    // Only a site with conflict policies keeps versions to merge from: no await on the write path otherwise.
    if (this.#conflicts.keepsVersions) await this.#conflicts.attachBase(draft);
    await turn.ready;
    const offline = !online();
    const scheduler = this.#scheduler;
    const claim = !offline && scheduler.freeSlots() > 0 && !scheduler.claimingLanes.has(lane) && !scheduler.sendingIn(lane);
    if (claim) scheduler.claimingLanes.add(lane);
    // Answers not yet persisted ride along in this write's transaction.
    const settled = scheduler.take();
    // The same write again, handed to this worker by the browser after its worker stopped
    // while sending it (see made-again.ts): looked for in the write's own transaction,
    // when the store may hold another worker's write.
    const resentBy = store.mayHoldSending(settled, scheduler.inFlight.size) ? this.#owners.me : undefined;
    const claimed = claim ? { owner: this.#owners.me, timeoutMs: this.#options.timeoutMs } : undefined;
    // A write whose lane is free goes out while its write-ahead transaction runs, and its
    // page waits for both: the longer of the two, not their sum (decision 0029).
    // It goes once its transaction holds the store: its id and sequence number are its own.
    let early: { id: number; result: Promise<AttemptResult> } | undefined;
    const atOnce = claimed && resentBy === undefined && this.#sendsAtOnce(draft)
      ? this.#writeAhead.addAtOnce(draft, now(), claimed, settled, (entry, clientId) => {
          this.#credentials.hold(entry.id, secrets);
          early = { id: entry.id, result: this.#attempts.send(entry, draft.request, clientId) };
        })
      : undefined;
    let added: Added | Resent;
    try {
      if (atOnce) {
        turn.pass();
        added = await atOnce.stored;
      } else {
        // Sealed before the transaction: WebCrypto's promises would let IndexedDB end it.
        if (this.#atRest) draft.sealed = await this.#atRest.sealRequest(draft.request, user);
        const stored = this.#writeAhead.add(draft, now(), claimed, settled, { folds: this.#folds(draft), resentBy });
        turn.pass();
        added = await stored;
      }
    } catch (error) {
      turn.pass();
      if (claim) scheduler.claimingLanes.delete(lane);
      if (early) this.#credentials.drop(early.id);
      scheduler.giveBack(settled);
      // Storage refused (quota, private mode, blocked), or no key to seal it with: send the
      // write as the app would have, and say so loudly, rather than lose it or keep it
      // readable. Nothing of it was stored: one transaction. If that send fails too, the
      // page is told, never that it was queued.
      console.error('[sw-outbox] could not keep this write on this device, so it is sent once without the outbox:', draft.method, draft.url, error);
      this.#dispatch({ applied: [] }, storageFull(false, describe(error)));
      try {
        // A write sent while it was being stored is already on its way: that is its one send.
        return { kind: 'answered', response: early ? responseOf(await early.result) : await this.#deps.fetch(toRequest(draft, { ...draft.request, headers: [...draft.request.headers, ...secrets] })) };
      } catch (failed) {
        return { kind: 'not-stored', error: `${describe(error)}; sent at once instead, which failed: ${describe(failed)}` };
      }
    }
    if (claim) scheduler.claimingLanes.delete(lane);
    if ('resent' in added) {
      // Its page waits for that write's answer, and nothing new was kept.
      const { resent } = added;
      this.#dispatch(added);
      this.#deps.log(`#${resent.id}`, 'made again by its page, its worker having stopped while sending it: not kept twice');
      const answer = this.#waiters.wait(resent.id, resent.lane);
      waitUntil(this.replay('write'));
      return this.#answered(resent, answer, draft.request.body);
    }
    const entry = added.transition.entry;
    this.#credentials.hold(entry.id, secrets);
    const answer = this.#waiters.wait(entry.id, lane);
    if (entry.state === 'sending') {
      scheduler.inFlight.set(entry.id, lane);
      // The transaction gave the client id, so the request goes out before anything below.
      waitUntil(this.#run({ entry, request: draft.request }, added.clientId, early?.result));
    }
    // After the request is on its way: nothing but the write-ahead record stands before it.
    this.#dispatch(added);
    this.#deps.log('queued', entry.method, entry.url, `#${entry.id}`, lane);
    if (entry.state === 'pending') {
      if (offline) {
        // The device says it is offline: no attempt, no wait. The sync event, the page's
        // online event or the next write after reconnecting will send it.
        this.#waiters.answer(entry.id, undefined);
        this.#backgroundSync.register();
      } else {
        waitUntil(this.replay('write'));
      }
    }
    return this.#answered(entry, answer, draft.request.body);
  }

  /** The write's answer, if it comes within `pageWaitMs`: else it is kept, and its page told so. */
  async #answered(entry: LiveEntry, answer: Promise<WaiterAnswer>, body: ArrayBuffer | null): Promise<WriteResult> {
    const cancelTimer = this.#deps.timer(() => this.#waiters.answer(entry.id, undefined), this.#options.pageWaitMs);
    const { response, signIn } = await answer;
    cancelTimer();
    return response ? { kind: 'answered', response } : { kind: 'kept', entry, body, ...(signIn ? { signIn } : {}) };
  }

  /**
   * Sends what is due, keeping every free lane busy up to `concurrency`. Resolves once
   * this worker has nothing more to send now (its timers and triggers take it from there).
   */
  replay(trigger: Trigger): Promise<void> {
    if (trigger === 'start') {
      // A new worker fetches the device's public key, if it has none yet, while it may be online.
      if (this.#atRest) void this.#users.known().then(() => this.#atRest?.prepare(this.#users.current));
      // Provisional identities are kept as long as a write may wait (maxAgeMs), then forgotten.
      void this.#identities?.forget(this.#deps.now() - this.#options.maxAgeMs).catch(() => {});
      // A new worker with a credentials hook can get fresh ones itself: what waited for them goes again.
      if (this.#hooks.credentials) return this.credentialsChanged();
    }
    const force = FORCING.has(trigger);
    if (force) this.#forcedAt = this.#deps.now();
    this.#scheduler.want(force);
    void this.#scheduler.pump();
    return this.#scheduler.idle();
  }

  /**
   * A Background Sync event. It fails while writes still wait, so that the browser
   * schedules another sync event later (Chromium: 5 and then 15 minutes).
   */
  async sync(): Promise<void> {
    await this.#backgroundSync.during(() => this.replay('sync'));
    if (this.#counts.pending > 0) throw new Error(`sw-outbox: ${this.#counts.pending} writes still wait`);
  }

  /** Counts, the first `limit` entries, dead letters and lanes: metadata only. */
  async snapshot(limit: number): Promise<Snapshot> {
    await this.#scheduler.flush();
    const [snapshot, storage] = await Promise.all([this.#deps.store.snapshot(limit, this.#deps.now()), this.#deps.storage?.().catch(() => null) ?? null]);
    this.#dispatch({ applied: [], counts: snapshot.counts });
    return { ...snapshot, storage };
  }

  /** The first `limit` waiting writes in order, with their bodies if asked; `mine` says which `page` made. */
  async pending(limit: number, bodies: boolean, page?: string): Promise<PendingWrite[]> {
    await this.#scheduler.flush();
    const atRest = this.#atRest;
    return this.#deps.store.pending(limit, bodies, page, atRest && ((record) => atRest.read(record)));
  }

  /**
   * Puts a dead letter back at the tail of its lane, under the same id, and replays.
   * Resolves with the entry once that replay is over, as a page's replay does.
   */
  async retry(id: number): Promise<EntryMeta> {
    const { transition } = await this.#update(id, (entry, nextSeq) => retried(deadLetter(id, entry), nextSeq, this.#deps.now()));
    await this.replay('page');
    return toMeta(transition.entry);
  }

  /** Deletes a dead letter for good. */
  async discard(id: number): Promise<void> {
    await this.#update(id, (entry) => discarded(deadLetter(id, entry)));
  }

  /**
   * Gives up on a write that waits (one being sent cannot be stopped): it becomes a dead
   * letter with reason `cancelled`, which the app can then discard or retry. The writes
   * behind it in its lane go on.
   */
  async cancel(id: number): Promise<void> {
    await this.#update(id, (entry) => cancelled(id, entry, this.#deps.now()));
    void this.replay('timer');
  }

  /** A conflict as a page shows it: the entry, "ours" and "theirs" (see conflicts.ts). */
  async conflict(id: number): Promise<ConflictDetails> {
    await this.#scheduler.flush();
    return this.#conflicts.details(id);
  }

  /** Settles a conflict as the app chose (see conflicts.ts); resolves once the replay that follows is over. */
  async resolve(id: number, resolution: Resolution): Promise<EntryMeta | undefined> {
    await this.#scheduler.flush();
    return this.#conflicts.resolve(id, resolution);
  }

  /** Keeps a JSON answer with its ETag on a `merge` path, as a version a later conflict may be merged from. */
  keepRepresentation(url: string, response: Response): Promise<void> {
    return this.#conflicts.keepRepresentation(url, response);
  }

  /** Signs `user` in (see users.ts); writes the user left at an earlier sign-out are sent now. */
  async signIn(user: string): Promise<void> {
    await this.#users.signIn(user);
    await this.replay('page');
  }

  /** Signs the user out, keeping, sending or erasing their waiting writes (see users.ts). */
  signOut(pending: SignOutPending = 'keep', timeoutMs = DEFAULT_FLUSH_MS): Promise<SignOutResult> {
    return this.#users.signOut(pending, timeoutMs);
  }

  /** Credentials changed (a sign-in, a refreshed token): every write waiting for them goes again (see needs-auth.ts). */
  credentialsChanged(): Promise<void> {
    return this.#needsAuth.changed();
  }

  /** A page of the app is opening (a navigation through the worker): the writes waiting for a session go again, at most once a second. */
  pageOpened(): void {
    this.#needsAuth.pageOpened();
  }

  /** A page can give credentials now: the writes waiting for them go again. */
  credentialsOffered(): void {
    this.#needsAuth.offered();
  }

  /** Takes over writes another queue kept (see adoption.ts). */
  async adopt(writes: { draft: Draft; createdAt: number }[]): Promise<EntryMeta[]> {
    await this.#scheduler.flush();
    return adopt(writes, { store: this.#deps.store, credentials: this.#credentials, credentialHeaders: this.#options.credentialHeaders, atRest: this.#atRest, dispatch: (committed) => this.#dispatch(committed) });
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
      return (await this.#atRest?.read(kept))?.body;
    });
  }

  /** A JSON read under `reads` with this user's waiting writes applied (see own-writes.ts); as it came while none waits. */
  async withWaitingWrites(request: Request, response: Response): Promise<Response> {
    await this.#verifyCounts();
    if (this.#counts.pending === 0) return response;
    return feature('reads').withWaitingWrites(request, response, { pending: (limit) => this.pending(limit, true), identities: this.#identities, options: this.#options.collections, log: this.#deps.log });
  }

  /** Reads a page made before this worker controlled it: those under `reads` are cached now (a first visit). */
  async keepReads(urls: string[]): Promise<void> {
    await this.#deps.keepReads?.(urls.filter((url) => typeof url === 'string').slice(0, MAX_KEPT_READS));
  }

  /** The outbox's stable id (Outbox-Client-Id). */
  clientId(): Promise<string> {
    return this.#deps.store.clientId();
  }

  /**
   * The one place a change of entries takes effect in this worker: the counts it left,
   * each change's events, the page and the credentials of an entry that left the queue let
   * go, a conflict handed to what settles it, and `drained` once a change leaves nothing
   * waiting. Every store change comes through here; `events` are the outbox's own. Changes
   * not persisted (`counts` undefined) leave the counts as they are.
   */
  #dispatch({ applied, counts = this.#counts }: Dispatched, ...events: StatusEvent[]): void {
    this.#counts = counts;
    let left = false;
    for (const { id, transition } of applied) {
      const entry = transition.entry;
      if (entry === null || entry.state === 'dead') {
        this.#waiters.answer(id, undefined);
        this.#credentials.drop(id);
      }
      for (const event of transition.events) {
        this.#publish(event, counts);
        left ||= LEAVING.has(event.type);
      }
      if (entry?.state === 'conflict' && this.#conflicts.settlesAlone) void this.#conflicts.settle(entry);
    }
    for (const event of events) this.#publish(event, counts);
    if (left && counts.pending === 0) {
      this.#scheduler.cancelWake();
      this.#publish({ type: 'drained' }, counts);
    }
  }

  /** One entry changed as `decide` says (it throws when the entry cannot be), persisted and dispatched. */
  async #update<T extends Transition>(id: number, decide: (entry: Entry | undefined, nextSeq: number) => T): Promise<{ transition: T }> {
    await this.#scheduler.flush();
    const committed = await this.#deps.store.update(id, decide);
    this.#dispatch(committed);
    return committed;
  }

  /** A conflict's resolution, persisted if it is still that conflict, dispatched, and replayed. */
  async #settleConflict(seen: ConflictEntry, transition: Transition<PendingEntry | null>): Promise<EntryMeta | undefined> {
    await this.#update(seen.id, (entry) => {
      stillConflict(seen.id, entry, seen.conflictAt);
      return transition;
    });
    await this.replay('page');
    return transition.entry ? toMeta(transition.entry) : undefined;
  }

  /** Every write waiting for credentials (`needs-auth`) is due again, and the outbox replays. */
  async #renewNeedsAuth(): Promise<void> {
    await this.#scheduler.flush();
    this.#dispatch(await this.#deps.store.renewCredentials((entry) => renewed(entry, this.#deps.now())));
    await this.replay('page');
  }

  /**
   * Withdraws a create never tried, and the untried writes to it, for a DELETE of it: the
   * page gets 204, as the server would have answered; undefined when the create is on its
   * way after all (the DELETE is then kept, and sent after it).
   */
  async #withdrawCreate(identity: IdentityRecord): Promise<Response | undefined> {
    await this.#scheduler.flush();
    const committed = await this.#identities!.withdraw(identity, 'deleted on this device before it was sent');
    if (!committed) return undefined;
    this.#dispatch(committed);
    this.#deps.log('withdrew', committed.applied.map(({ id }) => `#${id}`).join(' '), 'for a DELETE of', identity.url);
    return new Response(null, { status: 204, headers: { [WITHDRAWN_HEADER]: '?1' } });
  }

  /**
   * Whether a write may go out while it is stored (decision 0029): not one sealed at rest
   * (sealing must end before its transaction begins), nor one naming a provisional
   * identity (it is rewritten, or waits, once stored). The store adds its own conditions.
   */
  #sendsAtOnce(draft: Draft): boolean {
    return !this.#atRest && !this.#identities?.names(draft);
  }

  /** Whether a write may replace the last waiting write of its lane (option `fold`): the store decides if it does. */
  #folds(draft: Draft): boolean {
    // A sealed write cannot be read inside the store's transaction, where folding happens.
    if (this.#atRest) return false;
    return (draft.method === 'PUT' || draft.method === 'PATCH' || draft.method === 'DELETE') && this.#foldPaths.some((test) => test(new URL(draft.url).pathname));
  }

  /**
   * Runs one claimed attempt (see attempt.ts), hands a waiting page its answer, and queues
   * the transition. `sent`: the attempt's request is on its way already (decision 0029).
   */
  async #run(claimed: Claimed, knownClientId?: string, sent?: Promise<AttemptResult>): Promise<void> {
    const { entry } = claimed;
    const attempted = await this.#attempts.run(claimed, knownClientId ?? (await this.#deps.store.clientId()), sent);
    if (attempted.kind === 'unsendable') return this.#settleUnsent(entry, attempted.code, attempted.why);
    const { result, plain, held, sentTo } = attempted;
    let { transition } = attempted;
    const { verdict } = transition;
    // A create's answer names its real identity: stored as it settles, before anything behind it is claimed.
    const created = verdict.kind === 'settle' && entry.provisional ? verdict.response.clone() : undefined;
    // Settled, given up, or refused: these credentials are of no more use. (A conflict
    // keeps them, for the resolution it is sent again with.)
    if (verdict.kind === 'needs-auth') this.#credentials.refused(entry.id);
    if (verdict.kind === 'settle' || verdict.kind === 'dead') this.#credentials.drop(entry.id);
    this.#deps.log(`#${entry.id}`, entry.method, entry.url, verdict.response?.status ?? result.kind, '->', verdict.kind);
    // The page first: should the worker die before the commit, the write goes again with
    // the same key, and the server answers it from its store.
    if (verdict.kind === 'settle' && this.#conflicts.keepsVersions) void this.#conflicts.keepRepresentation(entry.url, verdict.response);
    if (verdict.kind === 'settle' && verdict.response.ok && sentTo !== undefined) this.#deps.delivered?.(sentTo);
    if (transition.entry === null) this.#waiters.answer(entry.id, verdict.response);
    else {
      cancelBody(verdict.response);
      this.#waiters.answer(entry.id, undefined, verdict.kind === 'needs-auth' && verdict.signIn ? verdict.response.url : undefined);
    }
    if (created && this.#identities) transition = await this.#identified(transition, entry, created, this.#deps.now());
    this.#scheduler.inFlight.delete(entry.id);
    if (verdict.kind === 'retry') {
      // Order holds: nothing behind this entry goes before it, so its lane's pages are told now.
      this.#waiters.releaseLane(entry.lane, this.#scheduler.inFlight);
      this.#backgroundSync.register();
      // A sign that the network is back came while this attempt was failing for want of it
      // (the browser's online event races its network coming up): that sign is not lost.
      if (result.kind === 'network-error' && this.#forcedAt > entry.attemptAt) this.#scheduler.want(true);
    }
    const change: Change = { id: entry.id, transition, was: entry };
    this.#scheduler.queue(change);
    if (verdict.kind === 'needs-auth') this.#needsAuth.refused(entry, plain, held, verdict.signIn === true);
    // A settled write with nothing behind it (the store counts it as the only live one):
    // its bookkeeping may wait a moment for the next write, whose transaction carries it.
    // That write had the lane to itself, so nothing is left to claim: a commit now would
    // only hold up the write after it (transactions on one store run one at a time).
    if (transition.entry === null && this.#counts.pending <= 1 && this.#waiters.size === 0 && this.#scheduler.inFlight.size === 0) {
      await new Promise<void>((resolve) => this.#deps.timer(resolve, SETTLE_WINDOW_MS));
      if (!this.#scheduler.queued(change)) return;
    }
    this.#scheduler.want();
    await this.#scheduler.pump();
  }

  /** A settled create's transition, with its identity record and, when the answer named one, the `identified` event. */
  async #identified<T extends Transition>(transition: T, entry: SendingEntry, response: Response, now: number): Promise<T> {
    const identity = await this.#identities!.identify(entry, response, now);
    if (!identity) return transition;
    this.#deps.log(`#${entry.id}`, entry.provisional!.id, '->', identity.real?.url ?? `no identity: ${identity.lost}`);
    const events: StatusEvent[] = identity.real ? [{ type: 'identified', entry: toMeta(entry), provisional: entry.provisional!, real: identity.real }] : [];
    return { ...transition, identity, events: [...transition.events, ...events] };
  }

  /** A write that can never be read (its device key revoked), or never sent where it meant, becomes a dead letter, unsent; its lane goes on. */
  async #settleUnsent(entry: SendingEntry, code: 'undecryptable' | 'no-identity', why: string): Promise<void> {
    const transition = unsendable(entry, this.#deps.now(), code, `not sent: ${why}`);
    this.#deps.log(`#${entry.id}`, entry.method, entry.url, '->', code);
    this.#credentials.drop(entry.id);
    this.#waiters.answer(entry.id, undefined);
    this.#scheduler.inFlight.delete(entry.id);
    this.#scheduler.queue({ id: entry.id, transition, was: entry });
    this.#scheduler.want();
    await this.#scheduler.pump();
  }

  #publish(event: StatusEvent, counts: Counts): void {
    // Another user's writes are theirs alone: their pages see them once they sign in.
    if ('entry' in event && event.entry.user !== undefined && event.entry.user !== this.#users.current) return;
    this.#deps.publish(counts, event);
  }

  /** The counts as the store holds them, checked once per worker (see OutboxStore.verifyCounts). */
  #verifyCounts(): Promise<unknown> {
    this.#verified ??= Promise.all([this.#deps.store.verifyCounts(), this.#users.known()]).then(([counts]) => this.#dispatch({ applied: [], counts }));
    return this.#verified.catch((error: unknown) => this.#deps.log('could not check the counts:', error));
  }
}
