import type { Logger } from './logger.js';
import type { OutboxOptions } from './options.js';
import { countEntries, toMeta, type OutboxEntry, type OutboxStore } from './outbox-store.js';
import { SYNC_TAG, type Counts, type Snapshot, type StatusEvent } from './protocol.js';
import { decide } from './retry-policy.js';
import { sendAttempt } from './send-attempt.js';
import type { StatusChannel } from './status-channel.js';
import { toDraft, toRequest } from './stored-request.js';

/**
 * What starts a replay. The forcing ones give reason to think the network is back, so an
 * entry waiting only because its last attempt got no answer is tried at once.
 */
export type Trigger = 'write' | 'sync' | 'page' | 'timer' | 'start';
const FORCING: ReadonlySet<Trigger> = new Set(['write', 'sync', 'page']);

/**
 * The outcome of a page's write, as its fetch handler needs it: the server's final answer
 * when it came while the page waited, else the entry that keeps the write for later.
 */
export type WriteResult = { kind: 'answered'; response: Response } | { kind: 'kept'; entry: OutboxEntry };

// setTimeout takes a signed 32-bit delay; a longer one fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Background Sync's SyncManager; not in TypeScript's lib because only Chromium has it. */
export interface SyncManagerLike {
  register(tag: string): Promise<void>;
}

/**
 * The outbox: keeps each write in IndexedDB before it is sent, sends writes one at a
 * time in sequence order, and decides after each answer whether the write is settled,
 * retried later, or a dead letter.
 */
export class Outbox {
  readonly #options: OutboxOptions;
  readonly #store: OutboxStore;
  readonly #channel: StatusChannel;
  readonly #log: Logger;
  readonly #sync: SyncManagerLike | undefined;

  #counts: Counts = { pending: 0, deadLetters: 0 };
  readonly #countsLoaded: Promise<unknown>;
  /** Pages waiting for their own write's answer, by sequence. */
  readonly #waiters = new Map<number, (response: Response | undefined) => void>();
  #replaying: Promise<void> | undefined;
  #again: Trigger | undefined;
  #syncEvents = 0;
  #sending: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: OutboxOptions, store: OutboxStore, channel: StatusChannel, log: Logger, sync?: SyncManagerLike) {
    this.#options = options;
    this.#store = store;
    this.#channel = channel;
    this.#log = log;
    this.#sync = sync;
    // Read before any write can start: idb-keyval creates transactions in call order,
    // so this snapshot never already holds an entry that write() then counts again.
    this.#countsLoaded = store.all().then((entries) => (this.#counts = countEntries(entries)));
  }

  /**
   * Handles one write from a page: stores it, then waits up to timeoutMs for its answer.
   * Resolves without a response when the write is kept for later.
   */
  async write(request: Request, waitUntil: (promise: Promise<unknown>) => void): Promise<WriteResult> {
    const draft = await toDraft(request);
    let entry: OutboxEntry;
    try {
      entry = await this.#store.add(draft, Date.now());
    } catch (error) {
      // Storage refused (quota, private mode): send the write as the app would have,
      // and say so loudly, rather than lose it.
      console.error('[sw-outbox] could not keep this write in IndexedDB, so it is sent once without the outbox:', draft.method, draft.url, error);
      return { kind: 'answered', response: await fetch(toRequest(draft)) };
    }
    await this.#countsLoaded;
    this.#counts.pending += 1;
    this.#publish({ type: 'queued', entry: toMeta(entry) });
    this.#log('queued', entry.method, entry.url, `#${entry.seq}`);

    const answer = new Promise<Response | undefined>((resolve) => this.#waiters.set(entry.seq, resolve));
    const timer = setTimeout(() => this.#answer(entry.seq, undefined), this.#options.timeoutMs);
    waitUntil(this.replay('write'));
    const response = await answer;
    clearTimeout(timer);
    return response ? { kind: 'answered', response } : { kind: 'kept', entry };
  }

  /**
   * Sends what is due, in order. Only one replay runs at a time in this worker, and the
   * Web Lock keeps a second worker of the origin (an update taking over) from running
   * one beside it. Triggers that arrive meanwhile make the running replay look again.
   */
  replay(trigger: Trigger): Promise<void> {
    if (!this.#again || FORCING.has(trigger)) this.#again = trigger;
    if (this.#replaying) return this.#replaying;
    const drain = async () => {
      await this.#countsLoaded;
      while (this.#again) {
        const force = FORCING.has(this.#again);
        this.#again = undefined;
        await this.#pass(force);
      }
    };
    const locks = (navigator as { locks?: LockManager }).locks;
    const locked = locks ? locks.request('sw-outbox-replay', drain) : drain();
    this.#replaying = locked.then(
      // A trigger that came after the last pass looked, but before this point, was
      // handed this promise: it chains onto a replay of its own.
      () => {
        this.#replaying = undefined;
        return this.#again ? this.replay(this.#again) : undefined;
      },
      (error: unknown) => {
        this.#replaying = undefined;
        throw error;
      },
    );
    return this.#replaying;
  }

  /**
   * A Background Sync event. It fails while writes still wait, so that the browser
   * schedules another sync event later (Chromium: 5 and then 15 minutes).
   */
  async sync(): Promise<void> {
    this.#syncEvents += 1;
    try {
      await this.replay('sync');
    } finally {
      this.#syncEvents -= 1;
    }
    if (this.#counts.pending > 0) throw new Error(`sw-outbox: ${this.#counts.pending} writes still wait`);
  }

  async snapshot(): Promise<Snapshot> {
    const entries = await this.#store.all();
    await this.#countsLoaded;
    // The stored entries are the truth; refresh the running counts from them.
    this.#counts = countEntries(entries);
    const pending = entries.filter((entry) => entry.state === 'pending');
    const head = pending[0];
    return {
      counts: { ...this.#counts },
      entries: pending.map((entry) => toMeta(entry, entry.seq === this.#sending)),
      deadLetters: entries.filter((entry) => entry.state === 'dead').map((entry) => toMeta(entry)),
      nextAttemptAt: head ? head.nextAttemptAt : null,
      lastError: pending.find((entry) => entry.lastError !== undefined)?.lastError ?? null,
    };
  }

  /** Puts a dead letter back at the tail of the queue and replays. */
  async retry(id: number): Promise<void> {
    const entry = await this.#store.requeue(id, Date.now());
    await this.#countsLoaded;
    this.#counts.deadLetters -= 1;
    this.#counts.pending += 1;
    this.#publish({ type: 'retried', entry: toMeta(entry) });
    await this.replay('page');
  }

  /** Deletes a dead letter for good. */
  async discard(id: number): Promise<void> {
    const entry = await this.#store.discard(id);
    await this.#countsLoaded;
    this.#counts.deadLetters -= 1;
    this.#publish({ type: 'discarded', entry: toMeta(entry) });
  }

  async #pass(force: boolean): Promise<void> {
    const { timeoutMs, maxAgeMs } = this.#options;
    let worked = false;
    for (;;) {
      const claim = await this.#store.claimNext({ now: Date.now(), maxAgeMs, force });
      for (const entry of claim.expired) {
        worked = true;
        this.#deadLettered(entry, entry.deadReason ?? 'expired');
      }
      const next = claim.next;
      if (!next) {
        this.#answerAll();
        if (claim.waitUntil !== undefined) {
          this.#wakeAt(claim.waitUntil);
          return;
        }
        // The store holds nothing pending: whatever the running count says (another
        // worker of the origin may have sent some), it is 0.
        this.#counts.pending = 0;
        if (worked) this.#drained();
        return;
      }
      worked = true;
      const { entry, previousUnanswered } = next;
      this.#sending = entry.seq;
      this.#publish({ type: 'sending', entry: toMeta(entry, true) });
      const stamp = { clientId: await this.#store.clientId(), seq: entry.seq };
      const result = await sendAttempt(entry, stamp, timeoutMs);
      this.#sending = undefined;
      const now = Date.now();
      const history = { attempts: entry.attempts, retryableResponses: entry.retryableResponses, previousUnanswered, waitedMs: now - entry.createdAt };
      const verdict = decide(result, history, this.#options, now);
      this.#log(`#${entry.seq}`, entry.method, entry.url, verdict.response?.status ?? result.kind, '->', verdict.kind);

      if (verdict.kind === 'retry') {
        cancelBody(verdict.response);
        entry.unanswered = !verdict.response;
        if (verdict.response) entry.lastStatus = verdict.response.status;
        if (verdict.charged) entry.retryableResponses += 1;
        entry.lastError = verdict.error;
        entry.nextAttemptAt = Date.now() + verdict.delayMs;
        await this.#store.put(entry);
        this.#publish({ type: 'retry-scheduled', entry: toMeta(entry), retryAt: entry.nextAttemptAt, error: verdict.error });
        // Order holds: nothing behind this entry goes before it, so the pass ends here.
        this.#answerAll();
        this.#wakeAt(entry.nextAttemptAt);
        this.#registerSync();
        return;
      }
      if (verdict.kind === 'settle' || this.#waiters.has(entry.seq)) {
        // Settled; or a final 4xx that the waiting page receives itself, as it would
        // without the outbox: the app handles that answer, so it is no dead letter.
        // The page is answered first: should the worker die before the delete, the
        // write goes again with the same key and the server answers it from its store.
        this.#answer(entry.seq, verdict.response);
        await this.#store.delete(entry.seq);
        this.#counts.pending -= 1;
        this.#publish({ type: 'sent', entry: toMeta(entry), status: verdict.response.status });
        if (this.#counts.pending === 0) return this.#drained();
        continue;
      }
      cancelBody(verdict.response);
      entry.state = 'dead';
      entry.unanswered = false;
      entry.lastStatus = verdict.response.status;
      entry.deadReason = verdict.reason;
      await this.#store.put(entry);
      this.#deadLettered(entry, verdict.reason);
      if (this.#counts.pending === 0) return this.#drained();
    }
  }

  #drained(): void {
    clearTimeout(this.#timer);
    this.#answerAll();
    this.#publish({ type: 'drained' });
  }

  #deadLettered(entry: OutboxEntry, reason: string): void {
    this.#counts.pending -= 1;
    this.#counts.deadLetters += 1;
    this.#publish({ type: 'dead-lettered', entry: toMeta(entry), reason });
  }

  /** Hands a waiting page its answer; an answer nobody waits for any more is dropped unread. */
  #answer(seq: number, response: Response | undefined): void {
    const resolve = this.#waiters.get(seq);
    this.#waiters.delete(seq);
    if (resolve) resolve(response);
    else cancelBody(response);
  }

  /** Every page still waiting gets the queued answer: its write waits behind others. */
  #answerAll(): void {
    for (const seq of [...this.#waiters.keys()]) this.#answer(seq, undefined);
  }

  /** A timer for the next due entry, while this worker lives; other triggers cover the rest. */
  #wakeAt(at: number): void {
    clearTimeout(this.#timer);
    const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => void this.replay('timer'), delay);
  }

  /**
   * Asks for a sync event when the network is back, where Background Sync exists. Not
   * from inside a sync event: Chromium would fire the same tag again at once, a loop
   * while the server is down; the failed event is rescheduled by the browser instead.
   */
  #registerSync(): void {
    if (!this.#sync || this.#syncEvents > 0) return;
    this.#sync.register(SYNC_TAG).catch((error: unknown) => this.#log('sync registration refused:', error));
  }

  #publish(event: StatusEvent): void {
    this.#channel.publish(this.#counts, event);
  }
}

/** Frees the connection of an answer nobody will read. */
function cancelBody(response: Response | undefined): void {
  response?.body?.cancel().catch(() => {});
}
