/**
 * Which writes go when. The scheduler keeps the transitions that attempts return until the
 * next commit, which persists them and claims the lane heads that are due in one
 * transaction at a time; it keeps every free lane busy up to `concurrency`, counts the
 * slots claims in progress will fill, and wakes the outbox when the next write is due.
 */
import type { Claimed, CommitResult, OutboxStore } from './outbox-store.js';
import { describe } from './outbox-error.js';
import type { StatusEvent } from './protocol.js';
import { storageFull, type Change, type ClaimRules, type Dispatched } from './transitions.js';

// setTimeout takes a signed 32-bit delay; a longer one fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SchedulerDeps {
  store: OutboxStore;
  now: () => number;
  timer: (callback: () => void, delayMs: number) => () => void;
  concurrency: number;
  /** How soon a commit that failed is tried again. */
  commitRetryMs: number;
  /** The claim rules of a commit, but for its slots and force. */
  rules: (slots: number, force: boolean) => ClaimRules;
  /** Runs once before the first commit (the counts checked against the store). */
  ready: () => Promise<unknown>;
  dispatch: (changes: Dispatched, ...events: StatusEvent[]) => void;
  /** Starts an attempt of a write claimed for this worker. */
  start: (claimed: Claimed) => void;
  /** Writes behind these heads wait: their pages are told. */
  blocked: (lane: string) => void;
  /** Heads another worker is sending: resolves with when to look again, or undefined to claim now (that worker is gone). */
  foreign: (heads: CommitResult['foreign']) => Promise<number | undefined>;
  log: (...args: unknown[]) => void;
  /** The next due write's time came: replay. */
  wake: () => void;
}

export class Scheduler {
  readonly #deps: SchedulerDeps;
  /** Attempts under way in this worker: entry id to lane. */
  readonly inFlight = new Map<number, string>();
  /**
   * Slots taken by claims not yet back from IndexedDB: lanes of writes being stored with a
   * claim, and the slots a running commit may fill. Counted with inFlight, so that writes
   * arriving together cannot all see a free slot and exceed `concurrency`.
   */
  readonly claimingLanes = new Set<string>();
  #claimingSlots = 0;
  /** Transitions waiting for the next commit, which persists them in one transaction. */
  #changes: Change[] = [];
  /** A trigger asked for a claim since the last commit; #force: one that may skip waits for the network. */
  #wanted = false;
  #force = false;
  #committing: Promise<void> | undefined;
  #idle: (() => void)[] = [];
  #cancelWake: (() => void) | undefined;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  /** A claim is wanted at the next commit; `force`: there is reason to think the network is back. */
  want(force = false): void {
    this.#wanted = true;
    if (force) this.#force = true;
  }

  /** An attempt's transition, to persist at the next commit. */
  queue(change: Change): void {
    this.#changes.push(change);
  }

  /** Whether this change still waits for a commit. */
  queued(change: Change): boolean {
    return this.#changes.includes(change);
  }

  /** The changes waiting for a commit, for a write's own transaction to carry; none while a commit runs. */
  take(): Change[] {
    return this.#committing ? [] : this.#changes.splice(0);
  }

  /** Changes taken that could not be persisted: they wait for the next commit again. */
  giveBack(changes: Change[]): void {
    this.#changes.unshift(...changes);
  }

  /** Commits what waits and claims what is due, one transaction at a time, until neither is left. */
  pump(): Promise<void> {
    this.#committing ??= this.#commitLoop();
    return this.#committing;
  }

  /** Persists the changes waiting for a commit, so that what follows reads them. */
  async flush(): Promise<void> {
    if (this.#changes.length > 0 || this.#committing) await this.pump();
  }

  /** Resolves once this worker has nothing more to send now: no commit, no attempt, no change waiting. */
  idle(): Promise<void> {
    if (!this.#committing && this.inFlight.size === 0 && this.#changes.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  freeSlots(): number {
    return this.#deps.concurrency - this.inFlight.size - this.claimingLanes.size - this.#claimingSlots;
  }

  /** An attempt of this lane is under way in this worker (an answer pending). */
  sendingIn(lane: string): boolean {
    for (const busy of this.inFlight.values()) if (busy === lane) return true;
    return false;
  }

  /** A timer for the next due entry, while this worker lives; other triggers cover the rest. */
  wakeAt(at: number): void {
    this.#cancelWake?.();
    const delay = Math.min(Math.max(0, at - this.#deps.now()), MAX_TIMER_MS);
    this.#cancelWake = this.#deps.timer(() => this.#deps.wake(), delay);
  }

  /** Nothing waits: no timer is needed. */
  cancelWake(): void {
    this.#cancelWake?.();
  }

  async #commitLoop(): Promise<void> {
    const { store, now } = this.#deps;
    await this.#deps.ready();
    for (;;) {
      const slots = this.freeSlots();
      const claim = this.#wanted && slots > 0;
      if (this.#changes.length === 0 && !claim) {
        // Checked and cleared in one step: a change queued after this starts a new loop.
        this.#committing = undefined;
        if (this.inFlight.size === 0) this.#resolveIdle();
        return;
      }
      const changes = this.#changes.splice(0);
      const rules = this.#deps.rules(slots, this.#force);
      this.#wanted = false;
      this.#force = false;
      let result: CommitResult;
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
        this.wakeAt(now() + this.#deps.commitRetryMs);
        this.#resolveIdle();
        return;
      }
      this.#claimingSlots = 0;
      this.#deps.dispatch(result);
      for (const claimed of result.claimed) {
        this.inFlight.set(claimed.entry.id, claimed.entry.lane);
        this.#deps.start(claimed);
      }
      for (const lane of result.blockedLanes) this.#deps.blocked(lane);
      if (result.foreign.length > 0) {
        const again = await this.#deps.foreign(result.foreign);
        if (again === undefined) this.#wanted = true;
        else this.wakeAt(again);
      }
      if (result.counts.pending > 0 && result.nextDueAt !== undefined) this.wakeAt(result.nextDueAt);
    }
  }

  /**
   * The disk has no room for a claim's bookkeeping: what can be persisted is (a settle
   * deletes, which needs no room), and the due heads are sent anyway, their attempts
   * unrecorded. A write the outbox accepted is delivered even when storage is full.
   */
  async #sendWithoutRoom(changes: Change[], rules: ClaimRules, error: unknown): Promise<void> {
    const { store, log, dispatch } = this.#deps;
    dispatch({ applied: [] }, storageFull(true, describe(error)));
    try {
      if (changes.length > 0) dispatch(await store.commit(changes));
    } catch (again) {
      log('could not persist answers either; they wait in memory:', again);
      this.giveBack(changes);
      this.wakeAt(rules.now + this.#deps.commitRetryMs);
    }
    const due = await store.peekDue({ ...rules, slots: this.freeSlots() }).catch(() => []);
    const unrecorded = due.filter(({ entry }) => !this.inFlight.has(entry.id));
    for (const { entry } of unrecorded) this.inFlight.set(entry.id, entry.lane);
    // Not persisted, but under way: pages hear of each attempt as they would of a recorded one.
    dispatch({ applied: unrecorded.map(({ entry, transition }) => ({ id: entry.id, transition })) });
    for (const claimed of unrecorded) this.#deps.start(claimed);
  }

  #resolveIdle(): void {
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

function isQuotaError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'QuotaExceededError';
}
