import type { Draft, SendingEntry } from './entry.js';
import type { AddOptions, Added, OutboxStore, Resent } from './outbox-store.js';
import type { Change } from './transitions.js';

type Claim = { owner: string; timeoutMs: number };
type Member = { draft: Draft; now: number; settled: Change[]; resentBy: string | undefined; resolve: (added: Added | Resent) => void; reject: (error: unknown) => void };
/** Writes waiting for the transaction under way to end: they share the next one. */
type Group = { members: Member[]; stored: Promise<void>; done: () => void };

/**
 * The write-ahead: how each write reaches the store. A write that arrives while a write's
 * transaction runs waits for it and shares the next transaction with every write that
 * arrived meanwhile (group commit), so a burst of writes costs two transactions, not one
 * each. A commit is the costly part of a transaction, and the browser runs transactions
 * on one store one at a time anyway, so the wait costs nothing it was not paying.
 *
 * Only writes that take nothing from the lane join a group: a claimed write (sent at once
 * when its lane is free) and a folding write read their lane, so they go behind a group
 * still waiting, and see its writes. That keeps each lane's order the order of arrival.
 */
export class WriteAhead {
  readonly #store: OutboxStore;
  /** The last write transaction begun here, until it ends. */
  #running: Promise<void> | undefined;
  #group: Group | undefined;

  constructor(store: OutboxStore) {
    this.#store = store;
  }

  /** Stores a write at the tail of its lane (see OutboxStore.add), with the writes that arrive with it. */
  async add(draft: Draft, now: number, claim: Claim | undefined, settled: Change[], { folds, resentBy }: AddOptions): Promise<Added | Resent> {
    if (this.#running && !claim && !folds) return this.#join({ draft, now, settled, resentBy });
    if (this.#group) await this.#group.stored;
    return this.#track(this.#store.add(draft, now, claim, settled, { folds, resentBy }));
  }

  /** A write sent while it is stored (see OutboxStore.addAtOnce); never ahead of a group still waiting. */
  addAtOnce(draft: Draft, now: number, claim: Claim, settled: Change[], send: (entry: SendingEntry, clientId: string) => void): { stored: Promise<Added> } | undefined {
    if (this.#group) return undefined;
    const begun = this.#store.addAtOnce(draft, now, claim, settled, send);
    if (begun) this.#track(begun.stored);
    return begun;
  }

  #join(write: Omit<Member, 'resolve' | 'reject'>): Promise<Added | Resent> {
    if (!this.#group) {
      let done = () => {};
      const stored = new Promise<void>((resolve) => (done = resolve));
      this.#group = { members: [], stored, done };
    }
    const { members } = this.#group;
    return new Promise((resolve, reject) => members.push({ ...write, resolve, reject }));
  }

  /** Once the last transaction begun here ends, the group that waited for it is stored. */
  #track<T>(stored: Promise<T>): Promise<T> {
    const running = stored.then(
      () => {},
      () => {},
    );
    this.#running = running;
    void running.then(() => {
      if (this.#running !== running) return;
      this.#running = undefined;
      const group = this.#group;
      this.#group = undefined;
      if (group) void this.#track(this.#storeGroup(group));
    });
    return stored;
  }

  async #storeGroup({ members, done }: Group): Promise<void> {
    try {
      const added = await this.#store.addMany(members);
      members.forEach((member, index) => member.resolve(added[index]!));
    } catch (error) {
      // Nothing of the group was stored: each write's page is answered as for a failed write.
      for (const member of members) member.reject(error);
    } finally {
      done();
    }
  }
}
