/**
 * Background Sync, where the browser has it (Chromium): a sync tag registered whenever a
 * write waits, so that the browser wakes the worker once the network is back, even with
 * no page open. Elsewhere the outbox's own triggers replay it (see delivery guide).
 */
import type { SyncManagerLike } from './outbox-deps.js';
import { SYNC_TAG } from './protocol.js';

export class BackgroundSync {
  readonly #sync: SyncManagerLike | undefined;
  readonly #log: (...args: unknown[]) => void;
  /** Sync events under way: no registration from inside one (see register). */
  #events = 0;
  /** A sync is registered and has not fired since: registering again would cost an IPC for nothing. */
  #registered = false;

  constructor(sync: SyncManagerLike | undefined, log: (...args: unknown[]) => void) {
    this.#sync = sync;
    this.#log = log;
  }

  /**
   * Asks for a sync event when the network is back. Not from inside a sync event: Chromium
   * would fire the same tag again at once, a loop while the server is down; the failed
   * event is rescheduled by the browser instead.
   */
  register(): void {
    if (!this.#sync || this.#events > 0 || this.#registered) return;
    this.#registered = true;
    this.#sync.register(SYNC_TAG).catch((error: unknown) => {
      this.#registered = false;
      this.#log('sync registration refused:', error);
    });
  }

  /** Runs a sync event's replay: the browser fired the tag, so a later wait needs a new one. */
  async during(replay: () => Promise<void>): Promise<void> {
    this.#events += 1;
    this.#registered = false;
    try {
      await replay();
    } finally {
      this.#events -= 1;
    }
  }
}
