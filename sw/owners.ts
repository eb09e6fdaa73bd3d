/**
 * Which worker owns an entry being sent. While an update takes over, two workers of the
 * origin may run: each claims entries in its own name and holds a Web Lock named after
 * itself while it lives, so that the other can tell a live attempt from one whose worker
 * died mid-send (claimed again, with the same key: the server applies it once).
 */
import type { SendingEntry } from './entry.js';

/** Each worker holds a lock of this name prefix while it lives. */
const OWNER_LOCK = 'sw-outbox-owner:';
/** Without Web Locks, a `sending` entry of another worker counts as abandoned this long after its timeout. */
const ABANDONED_MARGIN_MS = 5_000;

export class Owners {
  /** This worker instance; it owns the entries it claims. */
  readonly me = crypto.randomUUID();
  /** Workers known to be gone: their `sending` entries were interrupted and may be claimed. */
  readonly gone = new Set<string>();
  readonly #locks: LockManager | undefined;
  readonly #now: () => number;
  readonly #timeoutMs: number;

  constructor(locks: LockManager | undefined, now: () => number, timeoutMs: number) {
    this.#locks = locks;
    this.#now = now;
    this.#timeoutMs = timeoutMs;
    // Held while this worker lives, released by the browser when it dies.
    locks?.request(OWNER_LOCK + this.me, () => new Promise<never>(() => {})).catch(() => {});
  }

  /**
   * Heads another worker is sending hold their lanes while it lives. Resolves with
   * undefined when one of their workers is found gone (claim now), else with when to
   * look again.
   */
  async check(foreign: Pick<SendingEntry, 'owner' | 'attemptAt'>[]): Promise<number | undefined> {
    const before = this.gone.size;
    if (this.#locks) {
      const { held = [] } = await this.#locks.query();
      const alive = new Set(held.map((lock) => lock.name));
      for (const { owner } of foreign) if (!alive.has(OWNER_LOCK + owner)) this.gone.add(owner);
    } else {
      for (const { owner, attemptAt } of foreign) if (this.#abandonedAt(attemptAt) < this.#now()) this.gone.add(owner);
    }
    if (this.gone.size > before) return undefined;
    return Math.min(...foreign.map(({ attemptAt }) => this.#abandonedAt(attemptAt)));
  }

  #abandonedAt(attemptAt: number): number {
    return attemptAt + this.#timeoutMs + ABANDONED_MARGIN_MS;
  }
}
