import type { IDBPCursorWithValue } from 'idb';
import { isSealed, type ConflictEntry, type Draft, type Entry, type KeptRequest, type LiveEntry, type NeedsAuthEntry, type OpenRequest, type PendingEntry, type QueuedEntry, type SendingEntry } from './entry.js';
import { META_KEY, openOutboxDb, type Meta, type OutboxDb, type OutboxSchema } from './outbox-db.js';
import type { Counts } from './protocol.js';
import type { PendingWrite, Snapshot } from './commands.js';
import { fold } from './folding.js';
import type { IdentityRecord } from './identities.js';
import { ALL, DURABILITY, abort, applyLater, applyTo, bump, bumpCounts, countsOf, laneRange, readMeta, sameMeta, write, type Tx } from './store-changes.js';
import { readPending, readSnapshot } from './store-views.js';
import { madeAgain } from './made-again.js';
import { claimed, folded, headOf, stillConflict, stored, type Claim, type ClaimRules, type Transition, type Change, type Committed } from './transitions.js';

type QueueCursor = IDBPCursorWithValue<OutboxSchema, ('entries' | 'requests' | 'meta' | 'identities')[], 'entries', 'queue', 'readwrite'>;

/** A write as add() stored it: `applied` holds the changes it carried, its own, and the write it replaced (see folding.ts). */
export interface Added extends Committed {
  transition: Transition<LiveEntry>;
  /** The outbox's client id, read or known in the same transaction. */
  clientId: string;
}

/**
 * A write found to be one another worker was sending when it stopped, made again by its
 * page (see made-again.ts): nothing new is stored; `applied` holds the changes it carried.
 */
export interface Resent extends Committed {
  resent: SendingEntry;
}

/** How add() looks at the lane: `folds` folds the write into the lane's last one (see folding.ts); `resentBy`, this worker's owner id, looks for the write made again (see made-again.ts). */
export interface AddOptions {
  folds?: boolean;
  resentBy?: string | undefined;
}

/** An entry claimed for an attempt, with the request to send. */
export interface Claimed {
  entry: SendingEntry;
  /** Sealed, with encryption at rest: the outbox opens it before sending. */
  request: KeptRequest;
}

/** What commit() did: the changes made, in order (those given, then expiries and claims), and what it found. */
export interface CommitResult extends Committed {
  claimed: Claimed[];
  /** Lanes looked at whose head is not due: writes behind those heads wait. */
  blockedLanes: Set<string>;
  /** Heads another worker is sending: gone, if that worker is, and then claimable. */
  foreign: SendingEntry[];
  /** When the earliest blocked head is due. */
  nextDueAt: number | undefined;
}

/** A write's transaction begun from the meta record expected: `stored` is undefined if it was not. */
type Begun = { transition: Transition<LiveEntry>; stored: Promise<Added | undefined> };

/** The meta record was not what this store expected: another worker wrote since. */
class StaleMeta extends Error {}

/** The outbox in IndexedDB, in queue terms. Each method is one transaction. */
export class OutboxStore {
  readonly #open: () => Promise<OutboxDb>;
  #db: Promise<OutboxDb> | undefined;
  /** The database once open: what a transaction begun without an await needs. */
  #opened: OutboxDb | undefined;
  #clientId: string | undefined;
  /**
   * The meta record as the last transaction this store began will leave it, when that is
   * known without reading it; undefined while one that reads it runs, or after a failure.
   * Transactions on one store run in the order they begin, so a write's transaction can
   * take its sequence number and counts from here (decision 0010).
   */
  #meta: Meta | undefined;
  #begun = 0;

  constructor(origin: string, name?: string) {
    this.#open = () =>
      openOutboxDb(
        origin,
        () => {
          this.#db = undefined;
          this.#opened = undefined;
        },
        name,
      );
  }

  /** The database, opened once (again after the browser closed it). For the store's parts beside their concepts. @internal */
  db(): Promise<OutboxDb> {
    this.#db ??= this.#open().then(
      (db) => (this.#opened = db),
      (error: unknown) => {
        this.#db = undefined;
        throw error;
      },
    );
    return this.#db;
  }

  /**
   * A read-write transaction whose outcome for the meta record is not known yet: `done`
   * awaits it and records the meta it wrote, unless a later transaction began meanwhile.
   */
  async #tx(): Promise<{ tx: Tx; done: (meta: Meta) => Promise<void> }> {
    const tx = (await this.db()).transaction(ALL, 'readwrite', DURABILITY);
    const begun = this.#begin(undefined);
    const done = async (meta: Meta) => {
      try {
        await tx.done;
      } catch (error) {
        this.#forget(begun);
        throw error;
      }
      if (this.#begun === begun) this.#meta = { ...meta };
      this.#clientId = meta.clientId;
    };
    return { tx, done };
  }

  #begin(meta: Meta | undefined): number {
    this.#meta = meta;
    return ++this.#begun;
  }

  #forget(begun: number): void {
    if (this.#begun === begun) this.#meta = undefined;
  }

  /**
   * One read-write transaction over the entries and the meta record: `change` persists
   * what it decides (through store-changes.ts) and moves the counts in `meta`, which is
   * then written. If it throws, nothing is changed and the error is passed on. @internal
   */
  async change<T>(change: (tx: Tx, meta: Meta) => Promise<T>): Promise<T> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    let result: T;
    try {
      result = await change(tx, meta);
    } catch (error) {
      abort(tx);
      throw error;
    }
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return result;
  }

  /** The stable id of this outbox, known after the first transaction that read it. */
  async clientId(): Promise<string> {
    if (this.#clientId) return this.#clientId;
    return this.change(async (_tx, meta) => meta.clientId);
  }

  /**
   * Stores a write at the tail of its lane. With `owner`, and when nothing else waits in
   * that lane, it is claimed for its first attempt in the same transaction. `settled`
   * carries transitions still to persist (the previous write's answer, say): they are
   * applied first, so that one transaction serves both.
   */
  add(draft: Draft, now: number, claim: Claim | undefined, settled?: Change[], options?: AddOptions & { resentBy?: undefined }): Promise<Added>;
  add(draft: Draft, now: number, claim: Claim | undefined, settled: Change[], options: AddOptions): Promise<Added | Resent>;
  async add(draft: Draft, now: number, claim: Claim | undefined, settled: Change[] = [], { folds = false, resentBy }: AddOptions = {}): Promise<Added | Resent> {
    // Folding reads the lane's last write: when anything waits, that takes the reading way.
    if (folds && (this.#meta === undefined || this.#meta.pending > 0)) return this.#addReading(draft, now, claim, settled, folds, resentBy);
    return (await this.#beginKnowing(await this.db(), draft, now, claim, settled, undefined, resentBy)?.stored) ?? this.#addReading(draft, now, claim, settled, folds, resentBy);
  }

  /**
   * add() for a write that is sent while it is stored (decision 0029): the claimed entry,
   * made now from the meta record this store expects, and its transaction, begun before
   * this returns. Undefined when that cannot be done without a read first (nothing known
   * yet, anything waiting, the database not open yet): add() then.
   *
   * `send` is called once the transaction has read the meta record as expected, before
   * its writes are issued: it then holds the store, so the entry's id and sequence number
   * are this write's (unless the transaction fails, which `stored` says). It is not called
   * when another worker wrote meanwhile: nothing of this transaction is written, and
   * `stored` is the write stored anew by add(), with its key but maybe another id and
   * sequence number.
   */
  addAtOnce(draft: Draft, now: number, claim: Claim, settled: Change[], send: (entry: SendingEntry, clientId: string) => void): { stored: Promise<Added> } | undefined {
    let begun: Begun | undefined;
    try {
      begun = this.#opened && this.#beginKnowing(this.#opened, draft, now, claim, settled, (transition, clientId) => send(transition.entry as SendingEntry, clientId));
    } catch {
      return undefined; // the database is closing: add() opens it again, and says what fails
    }
    return begun && { stored: begun.stored.then((added) => added ?? (this.#addReading(draft, now, claim, settled, false) as Promise<Added>)) };
  }

  /**
   * add() without a read before the writes, so the transaction costs one round trip: the
   * sequence number and counts come from the meta record this store expects, and the lane
   * is known to be free when no write waits at all. The transaction is begun before this
   * returns. The expected record is read in the same transaction, and any difference
   * (another worker wrote) aborts it, writes and all: `stored` gives undefined then, and
   * add() takes the reading way. Undefined when nothing is known to begin from. With
   * `checked` (a write sent while it is stored, claimed), the writes wait for the read,
   * and `checked` is called between the two. With `resentBy`, the lane head is read as
   * well, and a write made again (see made-again.ts) aborts it the same way: the reading
   * way then persists `settled` and finds it again.
   */
  #beginKnowing(db: OutboxDb, draft: Draft, now: number, claim: Claim | undefined, settled: Change[], checked?: (transition: Transition<LiveEntry>, clientId: string) => void, resentBy?: string): Begun | undefined {
    const known = this.#meta;
    const meta = this.#expected(settled);
    if (!known || !meta) return undefined;
    if (claim && meta.pending > 0) return undefined; // the lane may be busy: that takes a read
    const tx = db.transaction(ALL, 'readwrite', DURABILITY);
    const { id, request, transition, identity } = newEntry(meta, draft, now, claim);
    const begun = this.#begin(meta);
    const again = resentBy === undefined ? undefined : madeAgain(tx, draft, resentBy);
    const check = Promise.all([tx.objectStore('meta').get(META_KEY), again]).then(([current, resent]) => {
      if (!sameMeta(current, known) || resent) {
        tx.abort();
        throw new StaleMeta();
      }
    });
    const writeAll = () => {
      const writes = settled.map((change) => write(tx, change.id, change.transition));
      writes.push(tx.objectStore('entries').put(transition.entry), tx.objectStore('requests').put(request, id), tx.objectStore('meta').put(meta, META_KEY));
      if (identity) writes.push(tx.objectStore('identities').put(identity));
      return Promise.all(writes);
    };
    // Awaited together, so that an abort's failed requests are not left unhandled.
    const written = checked
      ? check.then(() => {
          checked(transition, meta.clientId);
          return writeAll();
        })
      : Promise.all([check, writeAll()]);
    const stored = Promise.all([written, tx.done]).then(
      (): Added => {
        this.#clientId = meta.clientId;
        return { transition, applied: [...settled, { id, transition }], counts: countsOf(meta), clientId: meta.clientId };
      },
      (error: unknown) => {
        this.#forget(begun);
        if (error instanceof StaleMeta) return undefined;
        throw error;
      },
    );
    return { transition, stored };
  }

  /**
   * Stores writes that waited for the transaction before them (group commit, see
   * write-ahead.ts) in one transaction, in the order given, none claimed. Each one's
   * `settled` changes are applied first; with `resentBy`, a write made again is found (as
   * add() does). All are stored, or none is and it throws.
   */
  async addMany(writes: { draft: Draft; now: number; settled: Change[]; resentBy?: string | undefined }[]): Promise<(Added | Resent)[]> {
    return this.change(async (tx, meta) => {
      const settling = writes.flatMap(({ settled }) => settled.map(({ id, transition }) => applyLater(tx, id, transition)));
      const againReads = writes.map(({ draft, resentBy }) => (resentBy === undefined ? undefined : madeAgain(tx, draft, resentBy)));
      for (const bump of await Promise.all(settling)) bump(meta);
      const resent = await Promise.all(againReads);
      const made = writes.map(({ draft, now, settled }, index): Omit<Added, 'counts' | 'clientId'> | Omit<Resent, 'counts'> => {
        const again = resent[index];
        if (again) return { resent: again, applied: [...settled] };
        const { id, request, transition, identity } = newEntry(meta, draft, now, undefined);
        if (identity) void tx.objectStore('identities').put(identity);
        void tx.objectStore('entries').put(transition.entry);
        void tx.objectStore('requests').put(request, id);
        return { transition, applied: [...settled, { id, transition }] };
      });
      const counts = countsOf(meta);
      return made.map((added) => ({ ...added, counts, clientId: meta.clientId }));
    });
  }

  /** add() reading first: the meta record, whether the lane is busy, with `folds` the lane's last write, and with `resentBy` its head. */
  async #addReading(draft: Draft, now: number, claim: Claim | undefined, settled: Change[], folds: boolean, resentBy?: string): Promise<Added | Resent> {
    const { tx, done } = await this.#tx();
    const metaRead = readMeta(tx);
    const againRead = resentBy === undefined ? undefined : madeAgain(tx, draft, resentBy);
    const settling = settled.map(({ id, transition }) => applyLater(tx, id, transition));
    const busyRead = claim === undefined ? Promise.resolve(true) : laneBusy(tx, draft.lane);
    // A sealed write cannot be read here (decryption would end the transaction): it is not folded.
    const tailRead = folds && !draft.sealed ? laneTail(tx, draft.lane) : undefined;
    const meta = await metaRead;
    for (const bump of await Promise.all(settling)) bump(meta);
    const resent = await againRead;
    if (resent) {
      void tx.objectStore('meta').put(meta, META_KEY);
      await done(meta);
      return { resent, applied: [...settled], counts: countsOf(meta) };
    }
    const busy = await busyRead;
    const tail = await tailRead;
    const tailRequest = tail && (await tx.objectStore('requests').get(tail.id));
    const replacement = tail && tailRequest && !isSealed(tailRequest) ? fold(tail, tailRequest, draft) : undefined;
    const replaced = replacement && (tail as PendingEntry);
    if (replaced) draft = replacement;
    const { id, request, transition, identity } = newEntry(meta, draft, now, busy ? undefined : claim);
    const applied: Change[] = [...settled, { id, transition }];
    if (replaced) {
      const change = { id: replaced.id, transition: folded(replaced, id), was: replaced };
      applyTo(tx, meta, replaced, change.transition);
      applied.push(change);
    }
    if (identity) void tx.objectStore('identities').put(identity);
    void tx.objectStore('entries').put(transition.entry);
    void tx.objectStore('requests').put(request, id);
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return { transition, applied, counts: countsOf(meta), clientId: meta.clientId };
  }

  /**
   * Whether another worker's write may be being sent: unknown until a transaction has read
   * the meta record; else whether more wait, once `settled` is persisted, than the `own`
   * writes this worker is sending.
   */
  mayHoldSending(settled: Change[], own: number): boolean {
    const meta = this.#expected(settled);
    return meta === undefined || meta.pending > own;
  }

  /** The meta record as it will be once `settled` is persisted; undefined when it is not known without a read. */
  #expected(settled: Change[]): Meta | undefined {
    if (!this.#meta || settled.some((change) => change.was === undefined)) return undefined;
    const meta = { ...this.#meta };
    for (const { was, transition } of settled) {
      bump(meta, was!, -1);
      if (transition.entry) bump(meta, transition.entry, +1);
    }
    return meta;
  }

  /**
   * Persists what transitions returned, then, with `claim`, claims the due lane heads,
   * all in one transaction: settling a write and claiming the next of its lane is one
   * step. Heads past maxAgeMs become dead letters on the way.
   */
  async commit(changes: Change[], claim?: ClaimRules): Promise<CommitResult> {
    const { tx, done } = await this.#tx();
    // Every request is issued before any is awaited: a transaction runs its requests in
    // order, so the cursor below sees the changes, and the whole commit costs one round
    // trip to the database instead of one per step.
    const metaRead = readMeta(tx);
    const applied = changes.map(({ id, transition }) => applyLater(tx, id, transition));
    const heads = claim ? tx.objectStore('entries').index('queue').openCursor() : undefined;
    const meta = await metaRead;
    for (const bump of await Promise.all(applied)) bump(meta);
    const result: CommitResult = { counts: countsOf(meta), applied: [...changes], claimed: [], blockedLanes: new Set(), foreign: [], nextDueAt: undefined };
    if (claim && heads) await claimHeads(tx, meta, claim, result, await heads);
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    result.counts = countsOf(meta);
    return result;
  }

  /**
   * The due lane heads, read without writing anything: for sending when the disk has no
   * room for the claim's bookkeeping. Their attempts go unrecorded (a worker that dies
   * meanwhile sends them again, with their keys).
   */
  async peekDue(rules: ClaimRules): Promise<(Claimed & { transition: Transition<SendingEntry> })[]> {
    const db = await this.db();
    const tx = db.transaction(['entries', 'requests'], 'readonly');
    const found: (Claimed & { transition: Transition<SendingEntry> })[] = [];
    let cursor = await tx.objectStore('entries').index('queue').openCursor();
    while (cursor && found.length < rules.slots) {
      const head = cursor.value as QueuedEntry;
      if (head.state === 'pending' && headOf(head, rules).kind === 'claim') {
        const request = await tx.objectStore('requests').get(head.id);
        const transition = claimed(head, rules.owner, rules.now, rules.timeoutMs);
        if (request) found.push({ entry: transition.entry, request, transition });
      }
      cursor = await cursor.continue([head.lane, Infinity]);
    }
    await tx.done;
    return found;
  }

  /**
   * Applies to one entry the transition `decide` makes of it, as stored now, in one
   * transaction; `decide` throws (nothing changes) when the entry cannot take it.
   * `nextSeq` is the sequence number of a write put back at its lane's tail.
   */
  async update<T extends Transition>(id: number, decide: (entry: Entry | undefined, nextSeq: number) => T): Promise<Committed & { transition: T }> {
    return this.change(async (tx, meta) => {
      const entry = await tx.objectStore('entries').get(id);
      const transition = decide(entry, meta.lastSeq + 1);
      if (transition.entry) meta.lastSeq = Math.max(meta.lastSeq, transition.entry.seq);
      if (entry) applyTo(tx, meta, entry, transition);
      return { transition, applied: [{ id, transition, ...(entry ? { was: entry } : {}) }], counts: countsOf(meta) };
    });
  }

  /** An entry's request as kept (sealed, with encryption at rest), if the entry still has one. */
  async request(id: number): Promise<KeptRequest | undefined> {
    return (await this.db()).get('requests', id);
  }

  /** A conflict and its request, read without changing anything. Throws `not-a-conflict` for any other entry. */
  async conflict(id: number): Promise<{ entry: ConflictEntry; request: KeptRequest }> {
    const db = await this.db();
    const tx = db.transaction(['entries', 'requests'], 'readonly');
    const [entry, request] = await Promise.all([tx.objectStore('entries').get(id), tx.objectStore('requests').get(id)]);
    const conflict = stillConflict(id, entry);
    if (!request) throw new Error(`sw-outbox entry ${id} has lost its request: the store is damaged.`);
    return { entry: conflict, request };
  }

  /** Every write waiting for credentials is to be sent again (`renew` makes each one's transition), in one transaction. */
  async renewCredentials(renew: (entry: NeedsAuthEntry) => Transition<PendingEntry>): Promise<Committed> {
    return this.change(async (tx, meta) => {
      const waiting = (await tx.objectStore('entries').index('state').getAll(IDBKeyRange.bound(['needs-auth', -Infinity], ['needs-auth', Infinity]))) as NeedsAuthEntry[];
      const applied = waiting.map((entry) => {
        const transition = renew(entry);
        applyTo(tx, meta, entry, transition);
        return { id: entry.id, transition, was: entry };
      });
      return { applied, counts: countsOf(meta) };
    });
  }

  /** Counts, the first `limit` waiting entries, dead letters, conflicts and lanes (see store-views.ts). */
  async snapshot(limit: number, now: number): Promise<Omit<Snapshot, 'storage'>> {
    return readSnapshot(await this.db(), limit, now);
  }

  /** The first `limit` waiting writes in order, with their bodies if asked (see store-views.ts). */
  async pending(limit: number, bodies: boolean, page?: string, open?: OpenRequest): Promise<PendingWrite[]> {
    return readPending(await this.db(), limit, bodies, page, open);
  }

  /** The Idempotency-Keys of the live entries of `lane`: what a migration cut short has moved already. */
  async liveKeys(lane: string): Promise<Set<string>> {
    const db = await this.db();
    const live = await db.getAllFromIndex('entries', 'queue', laneRange(lane));
    return new Set(live.map((entry) => entry.idempotencyKey));
  }

  /**
   * Counts every state through the index and mends the kept counts if they differ: run
   * when a worker starts, so that counts stay what the store holds whatever happened.
   */
  async verifyCounts(): Promise<Counts> {
    return this.change(async (tx, meta) => {
      const byState = tx.objectStore('entries').index('state');
      const count = (state: Entry['state']) => byState.count(IDBKeyRange.bound([state, -Infinity], [state, Infinity]));
      const [pending, sending, dead, conflicts, needsAuth] = await Promise.all([count('pending'), count('sending'), count('dead'), count('conflict'), count('needs-auth')]);
      meta.pending = pending + sending + needsAuth;
      meta.deadLetters = dead;
      meta.conflicts = conflicts;
      // Each user's counts, from the entries themselves (metadata only) when any has a user.
      if (meta.byUser) {
        const byUser: Record<string, Counts> = {};
        for (const entry of await tx.objectStore('entries').getAll()) if (entry.user !== undefined) bumpCounts((byUser[entry.user] ??= { pending: 0, deadLetters: 0, conflicts: 0 }), entry, +1);
        meta.byUser = byUser;
      }
      return countsOf(meta);
    });
  }
}

async function laneBusy(tx: Tx, lane: string): Promise<boolean> {
  return (await tx.objectStore('entries').index('queue').getKey(laneRange(lane))) !== undefined;
}

/** The last write of a lane, if any. */
async function laneTail(tx: Tx, lane: string): Promise<QueuedEntry | undefined> {
  return (await tx.objectStore('entries').index('queue').openCursor(laneRange(lane), 'prev'))?.value as QueuedEntry | undefined;
}

/** A draft as the next entry: its sequence number and counts taken from `meta`, which it moves on. */
function newEntry(meta: Meta, draft: Draft, now: number, claim: Claim | undefined) {
  const id = meta.lastSeq + 1;
  const { request, sealed, ...fields } = draft;
  meta.lastSeq = id;
  const transition = stored(fields, id, now, claim);
  bump(meta, transition.entry, +1);
  const { provisional } = fields;
  const identity: IdentityRecord | undefined = provisional && { provisional: provisional.id, url: provisional.url, createdBy: id, lane: fields.lane, at: now };
  return { id, request: sealed ?? request, transition, identity };
}

/**
 * Walks the lane heads in the queue index, one cursor step a lane, and claims the due
 * ones up to `slots`. A head another live worker is sending holds its lane; one whose
 * worker is gone was interrupted and is claimed again.
 */
async function claimHeads(tx: Tx, meta: Meta, rules: ClaimRules, result: CommitResult, first: QueueCursor | null): Promise<void> {
  let cursor = first;
  while (cursor) {
    const head = cursor.value as QueuedEntry;
    const fate = headOf(head, rules);
    if (fate.kind === 'claim' && result.claimed.length >= rules.slots) return; // no slot left: the rest waits for the next commit
    if (fate.kind === 'expire') {
      applyTo(tx, meta, head, fate.transition);
      result.applied.push({ id: head.id, transition: fate.transition, was: head });
    } else if (fate.kind === 'blocked') {
      result.blockedLanes.add(head.lane);
      if (fate.dueAt !== undefined) result.nextDueAt = Math.min(result.nextDueAt ?? Infinity, fate.dueAt);
    } else if (fate.kind === 'sending') {
      if (fate.foreign) result.foreign.push(head as SendingEntry);
    } else {
      const request = await tx.objectStore('requests').get(head.id);
      if (request) {
        const change = claimed(head as LiveEntry, rules.owner, rules.now, rules.timeoutMs);
        applyTo(tx, meta, head, change);
        result.applied.push({ id: head.id, transition: change, was: head });
        result.claimed.push({ entry: change.entry, request });
      } else {
        // Only a damaged store lacks it; the lane holds, visibly, rather than lose order.
        result.blockedLanes.add(head.lane);
      }
    }
    // After an expiry, the next entry of the lane is its head.
    cursor = fate.kind === 'expire' ? await cursor.continue() : await cursor.continue([head.lane, Infinity]);
  }
}
