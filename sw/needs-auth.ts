/**
 * Writes waiting for credentials or a session (`needs-auth`, decisions 0019 and 0024):
 * what sends them again. The app says its credentials changed; a page opens, or offers
 * credentials; a write is refused with credentials the worker held, which may be stale.
 * None of these signs is lost while an attempt is out.
 */
import type { Credentials } from './credentials.js';
import type { Entry, SendingEntry, StoredRequest } from './entry.js';

/** A page opening sends the writes waiting for a session again at most this often. */
const PAGE_OPENED_INTERVAL_MS = 1_000;

export interface NeedsAuthDeps {
  credentials: Credentials;
  now: () => number;
  timer: (callback: () => void, delayMs: number) => () => void;
  log: (...args: unknown[]) => void;
  /** Whether any write waits at all: nothing is read or written while none does. */
  anyWaiting: () => Promise<boolean>;
  /** Every write waiting for credentials is due again, and the outbox replays. */
  renew: () => Promise<void>;
}

export class NeedsAuth {
  readonly #deps: NeedsAuthDeps;
  /** When credentials last could have changed (a page opening or offering them, changed()). */
  #offeredAt = -Infinity;
  /** When a page last opened, and whether one within the interval is put off to its end. */
  #pageOpenedAt = -Infinity;
  #pageOpenedLater = false;

  constructor(deps: NeedsAuthDeps) {
    this.#deps = deps;
  }

  /**
   * Credentials changed (a sign-in, a refreshed token): the ones this worker holds may be
   * stale (a token refreshed while offline), so each write's next attempt asks again.
   */
  async changed(): Promise<void> {
    this.#deps.credentials.forgetAll();
    this.#offeredAt = this.#deps.now();
    await this.#deps.renew();
  }

  /**
   * A page can give credentials now (its page helper registered `onCredentials`, or took
   * control after a hard reload). The credentials this worker holds stay: a page appearing
   * says nothing about a token, and those refused were forgotten already.
   */
  offered(): void {
    this.#offeredAt = this.#deps.now();
    this.#deps
      .anyWaiting()
      .then((waiting) => (waiting ? this.#deps.renew() : undefined))
      .catch((error: unknown) => this.#deps.log('could not send the writes waiting for credentials:', error));
  }

  /**
   * A page of the app is opening: the person may have signed in again. At most once a
   * second (a navigation to the sign-in page itself costs one attempt, refused as before);
   * one within the second is put off to its end, not dropped: the page opening after a
   * quick sign-in is the one that counts.
   */
  pageOpened(): void {
    const wait = this.#pageOpenedAt + PAGE_OPENED_INTERVAL_MS - this.#deps.now();
    if (wait <= 0) {
      this.#pageOpenedAt = this.#deps.now();
      this.offered();
    } else if (!this.#pageOpenedLater) {
      this.#pageOpenedLater = true;
      this.#deps.timer(() => {
        this.#pageOpenedLater = false;
        this.pageOpened();
      }, wait);
    }
  }

  /**
   * A write was refused for its credentials (or met the sign-in page, `signIn`). If they
   * could have changed while its attempt was out, it goes again at once. If it was refused
   * with the credentials held since it was made, they may be stale (a token the app
   * refreshed without saying so): the hook or the pages are asked at once, and those they
   * give are not held, so a refusal of them waits for a trigger.
   */
  refused(entry: SendingEntry, request: StoredRequest | undefined, held: [string, string][] | undefined, signIn: boolean): void {
    const { renew, log } = this.#deps;
    if (this.#offeredAt > entry.attemptAt) {
      void renew().catch((error: unknown) => log('could not send the writes waiting for credentials:', error));
    } else if (!signIn && held && request?.credentialNames) {
      void this.#askAgain(entry, request.credentialNames, held).catch((error: unknown) => log('could not ask again for credentials:', error));
    }
  }

  async #askAgain(entry: Entry, names: string[], held: [string, string][]): Promise<void> {
    if (await this.#deps.credentials.othersThan(entry, names, held)) await this.#deps.renew();
  }
}
