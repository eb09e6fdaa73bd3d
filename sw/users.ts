/**
 * Per-user outboxes (decision 0020): who is signed in, whose writes are sent and seen,
 * and what signing out does with the writes left. The signed-in user is kept in the meta
 * record; each user's counts beside the totals (store-changes.ts).
 */
import type { AtRest } from './at-rest.js';
import { checkUser } from './lanes.js';
import { META_KEY, type Meta } from './outbox-db.js';
import type { OutboxStore } from './outbox-store.js';
import type { StatusEvent } from './protocol.js';
import type { SignOutPending, SignOutResult } from './commands.js';
import { bump, countsOf } from './store-changes.js';
import { purged, userChanged, type Change, type Committed } from './transitions.js';

/** How long signOut('flush') waits for the user's writes by default, and how often it looks again meanwhile. */
export const DEFAULT_FLUSH_MS = 10_000;
const FLUSH_POLL_MS = 250;

export interface UsersDeps {
  store: OutboxStore;
  atRest: AtRest | undefined;
  now: () => number;
  timer: (callback: () => void, delayMs: number) => () => void;
  /** Sends what is due and resolves once this worker has nothing more to send now. */
  replay: () => Promise<void>;
  /** Persists the changes waiting for a commit. */
  flush: () => Promise<void>;
  /** How many attempts this worker has under way. */
  inFlight: () => number;
  dispatch: (committed: Committed, ...events: StatusEvent[]) => void;
}

export class Users {
  readonly #deps: UsersDeps;
  #user: string | undefined;
  #known: Promise<unknown> | undefined;

  constructor(deps: UsersDeps) {
    this.#deps = deps;
  }

  /** The signed-in user, once known() has resolved. */
  get current(): string | undefined {
    return this.#user;
  }

  /** Reads the signed-in user from the store, once per worker. */
  known(): Promise<unknown> {
    this.#known ??= this.#deps.store.db().then(async (db) => (this.#user = ((await db.get('meta', META_KEY)) as Meta | undefined)?.user));
    return this.#known;
  }

  /**
   * From now on, writes are `user`'s: they go in lanes of that user's own, carry
   * `Outbox-User`, and are sent only while that user is signed in. Signing in another user
   * signs the first out, keeping their writes.
   */
  async signIn(user: string): Promise<void> {
    checkUser(user);
    await this.#deps.flush();
    await this.known();
    this.#user = user;
    const counts = await this.#setUser(user);
    // Awaited, so that the key is on the device before the page goes on (and the worker lives until it is).
    await this.#deps.atRest?.prepare(user);
    this.#deps.dispatch({ applied: [], counts }, userChanged(user));
  }

  /**
   * Signs the user out. Their waiting writes are kept for their next sign-in (`keep`),
   * sent first (`flush`: as many as can be within timeoutMs, the rest kept), or erased,
   * bodies and all (`purge`). Either way no one else sends or sees them.
   */
  async signOut(pending: SignOutPending, timeoutMs: number): Promise<SignOutResult> {
    const { now, atRest } = this.#deps;
    await this.#deps.flush();
    await this.known();
    const user = this.#user;
    const result: SignOutResult = { sent: 0, kept: 0, purged: 0 };
    if (user === undefined) return result;
    if (pending === 'flush') {
      const before = await this.#waitingFor(user);
      const deadline = now() + timeoutMs;
      // Each replay sends what is due; what waits for the network or the server is asked again until the deadline.
      let left = before;
      while (left > 0 && now() < deadline) {
        await this.#deps.replay();
        await this.#deps.flush();
        left = await this.#waitingFor(user);
        if (left > 0) await new Promise<void>((resolve) => this.#deps.timer(resolve, Math.min(FLUSH_POLL_MS, Math.max(0, deadline - now()))));
      }
      result.sent = before - left;
    }
    // From here on nothing of theirs is claimed.
    this.#user = undefined;
    let erased: Change[] = [];
    if (pending === 'purge') {
      // Nothing of theirs may be mid-send: let attempts under way end, then delete all.
      while (this.#deps.inFlight() > 0) await this.#deps.replay();
      erased = await this.#purge(user);
      result.purged = erased.length;
      // Crypto-erase as well: the key is revoked, so no copy of these writes can be read anywhere.
      await atRest?.revoke(user);
    }
    atRest?.forgetPrivateKeys();
    result.kept = await this.#waitingFor(user);
    this.#deps.dispatch({ applied: erased, counts: await this.#setUser(undefined) }, userChanged(null));
    return result;
  }

  /** Signs a user in (or, with undefined, out) in the meta record: the counts from now on are theirs. */
  #setUser(user: string | undefined) {
    return this.#deps.store.change(async (_tx, meta) => {
      if (user === undefined) delete meta.user;
      else meta.user = user;
      return countsOf(meta);
    });
  }

  /** How many of a user's writes still wait (pending, sending, waiting for credentials). */
  async #waitingFor(user: string): Promise<number> {
    const meta = (await (await this.#deps.store.db()).get('meta', META_KEY)) as Meta | undefined;
    return meta?.byUser?.[user]?.pending ?? 0;
  }

  /** Deletes every write of a user, in any state, with its request (body, headers, base). */
  #purge(user: string): Promise<Change[]> {
    return this.#deps.store.change(async (tx, meta) => {
      const erased: Change[] = [];
      let cursor = await tx.objectStore('entries').openCursor();
      while (cursor) {
        const entry = cursor.value;
        if (entry.user === user) {
          void cursor.delete();
          void tx.objectStore('requests').delete(entry.id);
          bump(meta, entry, -1);
          erased.push({ id: entry.id, transition: purged(), was: entry });
        }
        cursor = await cursor.continue();
      }
      return erased;
    });
  }
}
