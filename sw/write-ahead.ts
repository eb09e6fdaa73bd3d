import type { Draft, SendingEntry } from './entry.js';
import type { AddOptions, Added, OutboxStore, Resent } from './outbox-store.js';
import type { Change, Claim } from './transitions.js';

type Stored = Added | Resent;
type Member = { draft: Draft; now: number; settled: Change[]; resentBy: string | undefined; resolve: (added: Stored) => void; reject: (error: unknown) => void };
/** What waits for the transaction under way: writes that share one (a group), or one write that reads its lane. */
type Waiting = { members: Member[] } | { start: () => Promise<unknown> };

/**
 * The write-ahead: how each write reaches the store. A write that arrives while a write's
 * transaction runs waits for it and shares the next transaction with every write that
 * arrived meanwhile (group commit, decision 0030), so a burst of writes costs two
 * transactions, not one each. A commit is the costly part of a transaction, and the
 * browser runs transactions on one store one at a time anyway, so the wait costs nothing
 * it was not paying.
 *
 * Only writes that take nothing from the lane join a group. A claimed write (sent at once
 * when its lane is free) and a folding write read their lane: when anything waits, they
 * wait their turn alone, and the writes that arrive after them form the next group. What
 * waits is stored in the order it arrived, which keeps each lane in that order.
 */
export class WriteAhead {
  readonly #store: OutboxStore;
  /** The last write transaction begun here, until it ends. */
  #running: Promise<void> | undefined;
  /** In arrival order: the next begins when the one under way ends. */
  readonly #waiting: Waiting[] = [];

  constructor(store: OutboxStore) {
    this.#store = store;
  }

  /** Stores a write at the tail of its lane (see OutboxStore.add), with the writes that arrive with it. */
  add(draft: Draft, now: number, claim: Claim | undefined, settled: Change[], { folds, resentBy }: AddOptions): Promise<Stored> {
    const start = () => this.#store.add(draft, now, claim, settled, { folds, resentBy });
    // Nothing waits: the transaction begins now, after the one under way (the browser keeps that order).
    if (this.#waiting.length === 0 && (!this.#running || claim || folds)) return this.#track(start());
    if (!claim && !folds) return this.#join({ draft, now, settled, resentBy });
    return new Promise((resolve, reject) => this.#waiting.push({ start: () => start().then(resolve, reject) }));
  }

  /** A write sent while it is stored (see OutboxStore.addAtOnce); never ahead of writes that wait. */
  addAtOnce(draft: Draft, now: number, claim: Claim, settled: Change[], send: (entry: SendingEntry, clientId: string) => void): { stored: Promise<Added> } | undefined {
    if (this.#waiting.length > 0) return undefined;
    const begun = this.#store.addAtOnce(draft, now, claim, settled, send);
    if (begun) this.#track(begun.stored);
    return begun;
  }

  #join(write: Omit<Member, 'resolve' | 'reject'>): Promise<Stored> {
    const last = this.#waiting.at(-1);
    const group = last && 'members' in last ? last : { members: [] };
    if (group !== last) this.#waiting.push(group);
    return new Promise((resolve, reject) => group.members.push({ ...write, resolve, reject }));
  }

  /** Once the last transaction begun here ends, what waited first begins. */
  #track<T>(stored: Promise<T>): Promise<T> {
    const running = stored.then(
      () => {},
      () => {},
    );
    this.#running = running;
    void running.then(() => {
      if (this.#running !== running) return;
      this.#running = undefined;
      const next = this.#waiting.shift();
      if (next) void this.#track('members' in next ? this.#storeGroup(next.members) : next.start());
    });
    return stored;
  }

  async #storeGroup(members: Member[]): Promise<void> {
    try {
      const added = await this.#store.addMany(members);
      members.forEach((member, index) => member.resolve(added[index]!));
    } catch (error) {
      // Nothing of the group was stored: each write's page is answered as for a failed write.
      for (const member of members) member.reject(error);
    }
  }
}
