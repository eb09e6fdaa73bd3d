import type { IDBPCursorWithValue, IDBPTransaction } from 'idb';
import { isSealed, type ConflictEntry, type DeadEntry, type Draft, type Entry, type KeptRequest, type LiveEntry, type NeedsAuthEntry, type PendingEntry, type QueuedEntry, type Representation, type SendingEntry, type StoredRequest } from './entry.js';
import type { KeptKey } from './device-key.js';
import { META_KEY, newMeta, openOutboxDb, type Meta, type OutboxDb, type OutboxSchema } from './outbox-db.js';
import { OutboxError } from './outbox-error.js';
import type { Counts, LaneMeta, PendingWrite, Snapshot } from './protocol.js';
import { fold } from './folding.js';
import { contentTypeOf } from './stored-request.js';
import type { IdentityRecord } from './identities.js';
import { cancelled, claimed, discarded, expired, isDue, isExpired, retried, stored, toMeta, type Transition } from './transitions.js';

type Tx = IDBPTransaction<OutboxSchema, ('entries' | 'requests' | 'meta' | 'identities')[], 'readwrite'>;
type QueueCursor = IDBPCursorWithValue<OutboxSchema, ('entries' | 'requests' | 'meta' | 'identities')[], 'entries', 'queue', 'readwrite'>;

/** A write as add() stored it. */
export interface Added {
  transition: Transition<LiveEntry>;
  /** The lane's last write, which this one replaced (see folding.ts). */
  folded?: PendingEntry;
  counts: Counts;
  /** The outbox's client id, read or known in the same transaction. */
  clientId: string;
}

/** An entry claimed for an attempt, with the request to send. */
export interface Claimed {
  entry: SendingEntry;
  /** Sealed, with encryption at rest: the outbox opens it before sending. */
  request: KeptRequest;
}

/** Which lane heads a commit may claim. */
export interface ClaimRules {
  now: number;
  maxAgeMs: number;
  /** At most this many. */
  slots: number;
  /** There is reason to think the network is back: waits for it end now. */
  force: boolean;
  /** This worker's id: it owns what it claims. */
  owner: string;
  /** How long an attempt may take: said in each `sending` event. */
  timeoutMs: number;
  /** Workers known to be gone: their `sending` entries were interrupted and may be claimed. */
  goneOwners: ReadonlySet<string>;
  /** The signed-in user: other users' writes are not claimed. */
  user: string | undefined;
}

/** A transition of the entry with this id, to persist. */
export interface Change {
  id: number;
  transition: Transition;
  /** The entry as the transition found it, when the caller holds it: a write's transaction then need not read it. */
  was?: Entry;
}

export interface CommitResult {
  counts: Counts;
  /** The changes made, in order, with the events they imply (changes given, then expiries and claims). */
  applied: Transition[];
  claimed: Claimed[];
  /** Lanes looked at whose head is not due: writes behind those heads wait. */
  blockedLanes: Set<string>;
  /** Heads another worker is sending: gone, if that worker is, and then claimable. */
  foreign: SendingEntry[];
  /** When the earliest blocked head is due. */
  nextDueAt: number | undefined;
}

const ALL = ['entries', 'requests', 'meta', 'identities'] as const;
// Chromium's default since 121, and Workbox's choice: a committed write survives a crash
// of the tab, the worker or the browser; only a power cut may lose the latest ones.
const DURABILITY = { durability: 'relaxed' } as const;

/** The meta record was not what this store expected: another worker wrote since. */
class StaleMeta extends Error {}

/** The outbox in IndexedDB, in queue terms. Each method is one transaction. */
export class OutboxStore {
  readonly #open: () => Promise<OutboxDb>;
  #db: Promise<OutboxDb> | undefined;
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
    this.#open = () => openOutboxDb(origin, () => (this.#db = undefined), name);
  }

  #connect(): Promise<OutboxDb> {
    this.#db ??= this.#open().catch((error: unknown) => {
      this.#db = undefined;
      throw error;
    });
    return this.#db;
  }

  /**
   * A read-write transaction whose outcome for the meta record is not known yet: `done`
   * awaits it and records the meta it wrote, unless a later transaction began meanwhile.
   */
  async #tx(): Promise<{ tx: Tx; done: (meta: Meta) => Promise<void> }> {
    const tx = (await this.#connect()).transaction(ALL, 'readwrite', DURABILITY);
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

  /** The stable id of this outbox, known after the first transaction that read it. */
  async clientId(): Promise<string> {
    if (this.#clientId) return this.#clientId;
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return meta.clientId;
  }

  /**
   * Stores a write at the tail of its lane. With `owner`, and when nothing else waits in
   * that lane, it is claimed for its first attempt in the same transaction. `settled`
   * carries transitions still to persist (the previous write's answer, say): they are
   * applied first, so that one transaction serves both.
   */
  async add(draft: Draft, now: number, claim: { owner: string; timeoutMs: number } | undefined, settled: Change[] = [], folds = false): Promise<Added> {
    // Folding reads the lane's last write: when anything waits, that takes the reading way.
    if (folds && (this.#meta === undefined || this.#meta.pending > 0)) return this.#addReading(draft, now, claim, settled, folds);
    return (await this.#addKnowing(draft, now, claim, settled)) ?? this.#addReading(draft, now, claim, settled, folds);
  }

  /**
   * add() without a read before the writes, so the transaction costs one round trip: the
   * sequence number and counts come from the meta record this store expects, and the lane
   * is known to be free when no write waits at all. The expected record is read in the
   * same transaction, and any difference (another worker wrote) aborts it, writes and all:
   * undefined then, and add() takes the reading way.
   */
  async #addKnowing(draft: Draft, now: number, claim: { owner: string; timeoutMs: number } | undefined, settled: Change[]): Promise<Added | undefined> {
    const db = await this.#connect();
    const known = this.#meta;
    if (!known || settled.some((change) => change.was === undefined)) return undefined;
    const meta = { ...known };
    for (const { was, transition } of settled) {
      bump(meta, was!, -1);
      if (transition.entry) bump(meta, transition.entry, +1);
    }
    if (claim && meta.pending > 0) return undefined; // the lane may be busy: that takes a read
    const tx = db.transaction(ALL, 'readwrite', DURABILITY);
    const { id, request, transition, identity } = newEntry(meta, draft, now, claim);
    const begun = this.#begin(meta);
    const checked = tx.objectStore('meta').get(META_KEY).then((current) => {
      if (!sameMeta(current, known)) {
        tx.abort();
        throw new StaleMeta();
      }
    });
    // Awaited together, so that an abort's failed requests are not left unhandled.
    const writes = settled.map((change) => write(tx, change.id, change.transition));
    writes.push(tx.objectStore('entries').put(transition.entry), tx.objectStore('requests').put(request, id), tx.objectStore('meta').put(meta, META_KEY));
    if (identity) writes.push(tx.objectStore('identities').put(identity));
    try {
      await Promise.all([checked, tx.done, ...writes]);
    } catch (error) {
      this.#forget(begun);
      if (error instanceof StaleMeta) return undefined;
      throw error;
    }
    this.#clientId = meta.clientId;
    return { transition, counts: countsOf(meta), clientId: meta.clientId };
  }

  /** add() reading first: the meta record, whether the lane is busy, and, with `folds`, the lane's last write. */
  async #addReading(draft: Draft, now: number, claim: { owner: string; timeoutMs: number } | undefined, settled: Change[], folds: boolean): Promise<Added> {
    const { tx, done } = await this.#tx();
    const metaRead = readMeta(tx);
    const applied = settled.map(({ id, transition }) => applyLater(tx, id, transition));
    const busyRead = claim === undefined ? Promise.resolve(true) : laneBusy(tx, draft.lane);
    // A sealed write cannot be read here (decryption would end the transaction): it is not folded.
    const tailRead = folds && !draft.sealed ? laneTail(tx, draft.lane) : undefined;
    const meta = await metaRead;
    for (const bump of await Promise.all(applied)) bump(meta);
    const busy = await busyRead;
    const tail = await tailRead;
    const tailRequest = tail && (await tx.objectStore('requests').get(tail.id));
    const replacement = tail && tailRequest && !isSealed(tailRequest) ? fold(tail, tailRequest, draft) : undefined;
    const folded = replacement && (tail as PendingEntry);
    if (folded) {
      draft = replacement;
      void tx.objectStore('entries').delete(folded.id);
      void tx.objectStore('requests').delete(folded.id);
      bump(meta, folded, -1);
    }
    const { id, request, transition, identity } = newEntry(meta, draft, now, busy ? undefined : claim);
    if (identity) void tx.objectStore('identities').put(identity);
    void tx.objectStore('entries').put(transition.entry);
    void tx.objectStore('requests').put(request, id);
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return { transition, counts: countsOf(meta), clientId: meta.clientId, ...(folded ? { folded } : {}) };
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
    const result: CommitResult = { counts: countsOf(meta), applied: changes.map((change) => change.transition), claimed: [], blockedLanes: new Set(), foreign: [], nextDueAt: undefined };
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
  async peekDue(rules: ClaimRules): Promise<Claimed[]> {
    const db = await this.#connect();
    const tx = db.transaction(['entries', 'requests'], 'readonly');
    const found: Claimed[] = [];
    let cursor = await tx.objectStore('entries').index('queue').openCursor();
    while (cursor && found.length < rules.slots) {
      const head = cursor.value as QueuedEntry;
      if (head.state === 'pending' && visibleTo(head, rules.user) && isDue(head, rules.now, rules.force) && !isExpired(head, rules.now, rules.maxAgeMs)) {
        const request = await tx.objectStore('requests').get(head.id);
        if (request) found.push({ entry: claimed(head, rules.owner, rules.now, rules.timeoutMs).entry, request });
      }
      cursor = await cursor.continue([head.lane, Infinity]);
    }
    await tx.done;
    return found;
  }

  /** Puts a dead letter back at the tail of its lane: a new sequence number, the same id. */
  async retry(id: number, now: number): Promise<{ transition: Transition<PendingEntry>; counts: Counts }> {
    return this.#onDeadLetter(id, async (tx, meta, dead) => {
      meta.lastSeq += 1;
      const transition = retried(dead, meta.lastSeq, now);
      applyTo(tx, meta, dead, transition);
      return transition;
    });
  }

  /** Deletes a dead letter for good, at the app's request. */
  async discard(id: number): Promise<{ transition: Transition<null>; counts: Counts }> {
    return this.#onDeadLetter(id, async (tx, meta, dead) => {
      const transition = discarded(dead);
      await apply(tx, meta, id, transition);
      return transition;
    });
  }

  /** Makes a waiting write a dead letter (reason `cancelled`); one being sent cannot be. */
  async cancel(id: number, now: number): Promise<{ transition: Transition<DeadEntry>; counts: Counts }> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    const entry = await tx.objectStore('entries').get(id);
    if (!entry) throw notFound(id);
    if (entry.state !== 'pending') {
      abort(tx);
      throw new OutboxError(
        entry.state === 'dead' ? 'not-pending' : 'sending',
        entry.state === 'dead'
          ? `sw-outbox entry ${id} is already a dead letter: discard it instead.`
          : `sw-outbox entry ${id} is being sent right now, so it cannot be cancelled; its answer is on its way.`,
      );
    }
    const transition = cancelled(entry, now);
    await apply(tx, meta, id, transition);
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return { transition, counts: countsOf(meta) };
  }

  /** An entry's request as kept (sealed, with encryption at rest), if the entry still has one. */
  async request(id: number): Promise<KeptRequest | undefined> {
    return (await this.#connect()).get('requests', id);
  }

  /** A conflict and its request, read without changing anything. Throws `not-a-conflict` for any other entry. */
  async conflict(id: number): Promise<{ entry: ConflictEntry; request: KeptRequest }> {
    const db = await this.#connect();
    const tx = db.transaction(['entries', 'requests'], 'readonly');
    const [entry, request] = await Promise.all([tx.objectStore('entries').get(id), tx.objectStore('requests').get(id)]);
    if (!entry) throw notFound(id);
    if (entry.state !== 'conflict' || !request) throw notAConflict(id);
    return { entry, request };
  }

  /**
   * Persists the resolution of the conflict `seen` (made of it and its request, read
   * before), provided the entry is still that conflict (conflictAt tells): another page
   * may have resolved it meanwhile.
   */
  async resolve(seen: ConflictEntry, transition: Transition<PendingEntry | null>): Promise<{ transition: Transition<PendingEntry | null>; counts: Counts }> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    const entry = await tx.objectStore('entries').get(seen.id);
    if (!entry || entry.state !== 'conflict' || entry.conflictAt !== seen.conflictAt) {
      abort(tx);
      throw entry ? notAConflict(seen.id) : notFound(seen.id);
    }
    applyTo(tx, meta, entry, transition);
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return { transition, counts: countsOf(meta) };
  }

  /** Every write waiting for credentials is to be sent again (`renew` makes each one's transition), in one transaction. */
  async renewCredentials(renew: (entry: NeedsAuthEntry) => Transition<PendingEntry>): Promise<{ transitions: Transition<PendingEntry>[]; counts: Counts }> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    const waiting = (await tx.objectStore('entries').index('state').getAll(IDBKeyRange.bound(['needs-auth', -Infinity], ['needs-auth', Infinity]))) as NeedsAuthEntry[];
    const transitions = waiting.map((entry) => {
      const transition = renew(entry);
      applyTo(tx, meta, entry, transition);
      return transition;
    });
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return { transitions, counts: countsOf(meta) };
  }

  /**
   * What pages may see: exact counts, the first `limit` waiting entries and dead letters,
   * and the first `limit` lanes with their heads. Metadata only: no body is read.
   */
  async snapshot(limit: number, now: number): Promise<Omit<Snapshot, 'storage'>> {
    const db = await this.#connect();
    const tx = db.transaction(['entries', 'meta'], 'readonly');
    const meta = (await tx.objectStore('meta').get(META_KEY)) ?? newMeta();
    const byState = tx.objectStore('entries').index('state');
    const page = async (state: Entry['state']) => {
      const found: Entry[] = [];
      let cursor = await byState.openCursor(IDBKeyRange.bound([state, -Infinity], [state, Infinity]));
      while (cursor && found.length < limit) {
        if (visibleTo(cursor.value, meta.user)) found.push(cursor.value);
        cursor = await cursor.continue();
      }
      return found;
    };
    const [pending, sending, dead, conflicts, needsAuth] = await Promise.all([page('pending'), page('sending'), page('dead'), page('conflict'), page('needs-auth')]);
    const entries = [...pending, ...sending, ...needsAuth].sort((a, b) => a.seq - b.seq).slice(0, limit).map(toMeta);
    const lanes: LaneMeta[] = [];
    const queue = tx.objectStore('entries').index('queue');
    let cursor = await queue.openCursor();
    while (cursor && lanes.length < limit) {
      const head = cursor.value as QueuedEntry;
      const range = IDBKeyRange.bound([head.lane, -Infinity], [head.lane, Infinity]);
      if (visibleTo(head, meta.user)) lanes.push({
        lane: head.lane,
        head: head.id,
        state: head.state,
        waiting: await queue.count(range),
        nextAttemptAt: head.state === 'pending' ? head.nextAttemptAt : null,
        lastError: head.lastError ?? null,
        failingAlone: head.failingAlone === true,
      });
      cursor = await cursor.continue([head.lane, Infinity]);
    }
    await tx.done;
    const waiting = lanes.filter((lane) => lane.nextAttemptAt !== null && lane.nextAttemptAt > now);
    return {
      counts: countsOf(meta),
      entries,
      deadLetters: dead.map(toMeta),
      conflicts: conflicts.map(toMeta),
      lanes,
      nextAttemptAt: waiting.length > 0 ? Math.min(...waiting.map((lane) => lane.nextAttemptAt!)) : null,
      lastError: lanes.find((lane) => lane.lastError !== null)?.lastError ?? null,
    };
  }

  /**
   * The first `limit` live entries in order (by sequence), with their requests' content
   * types and, if asked, bodies. `mine` marks those `page` made. `open` reads a sealed
   * request after the transaction (undefined: it cannot be now, and the write says `sealed`).
   */
  async pending(limit: number, bodies: boolean, page?: string, open: (record: KeptRequest) => Promise<StoredRequest | undefined> = async (record) => (isSealed(record) ? undefined : record)): Promise<PendingWrite[]> {
    const db = await this.#connect();
    const tx = db.transaction(['entries', 'requests', 'meta'], 'readonly');
    const meta = await tx.objectStore('meta').get(META_KEY);
    const user = meta?.user;
    // Only when other users' writes are among them does the read go past `limit`, to leave those out.
    const others = Object.keys(meta?.byUser ?? {}).some((owner) => owner !== user);
    const byState = tx.objectStore('entries').index('state');
    const inState = (state: Entry['state']) => byState.getAll(IDBKeyRange.bound([state, -Infinity], [state, Infinity]), others ? undefined : limit);
    const live = [...(await inState('pending')), ...(await inState('sending')), ...(await inState('needs-auth'))]
      .filter((entry) => visibleTo(entry, user))
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit);
    const records = await Promise.all(live.map((entry) => tx.objectStore('requests').get(entry.id)));
    await tx.done;
    return Promise.all(
      live.map(async (entry, index): Promise<PendingWrite> => {
        const record = records[index];
        const request = record && (await open(record));
        const contentType = request ? contentTypeOf(request) : null;
        const write: PendingWrite = { ...toMeta(entry), mine: page !== undefined && entry.madeBy === page, contentType, ...(bodies ? { body: request?.body ?? null } : {}) };
        if (record && !request) write.sealed = true;
        return write;
      }),
    );
  }

  /**
   * Keeps a JSON representation seen with an ETag, for merges, and drops the oldest
   * beyond `max`. Nothing a page waits for depends on it: callers do not await it.
   */
  async keepRepresentation(representation: Representation, max: number): Promise<void> {
    const db = await this.#connect();
    const tx = db.transaction('representations', 'readwrite', DURABILITY);
    void tx.store.put(representation);
    const excess = (await tx.store.count()) - max;
    let oldest = excess > 0 ? await tx.store.index('at').openCursor() : null;
    for (let dropped = 0; oldest && dropped < excess; dropped++) {
      void oldest.delete();
      oldest = await oldest.continue();
    }
    await tx.done;
  }

  /** The representation of `url` with this ETag, if the outbox kept it. */
  async representation(url: string, etag: string): Promise<Representation | undefined> {
    return (await this.#connect()).get('representations', [url, etag]);
  }

  /** The public device key of `user` ('' for none), if the device has it. */
  async keptKey(user: string): Promise<KeptKey | undefined> {
    return (await this.#connect()).get('keys', user);
  }

  async keepKey(key: KeptKey): Promise<void> {
    await (await this.#connect()).put('keys', key);
  }

  async dropKey(user: string): Promise<void> {
    await (await this.#connect()).delete('keys', user);
  }

  /**
   * The records of these provisional identities, each with the state of its create's
   * entry (undefined once it is gone): what a write naming them may do (decision 0022).
   */
  async identities(ids: readonly string[]): Promise<{ record: IdentityRecord | undefined; createState: Entry['state'] | undefined }[]> {
    if (ids.length === 0) return [];
    const db = await this.#connect();
    const tx = db.transaction(['identities', 'entries'], 'readonly');
    const records = await Promise.all(ids.map((id) => tx.objectStore('identities').get(id)));
    const creates = await Promise.all(records.map((record) => (record ? tx.objectStore('entries').get(record.createdBy) : undefined)));
    return records.map((record, index) => ({ record, createState: creates[index]?.state }));
  }

  /**
   * Withdraws a create that was never attempted, with the never-attempted writes to its
   * URL and under it: a DELETE of it made them moot, and nothing of it is sent. Its
   * identity is marked lost, so that a write naming it elsewhere is never sent. Undefined
   * when the create is no longer waiting untried (it may be on its way): the DELETE is then
   * kept and sent after it.
   */
  async withdrawCreate(createId: number, url: string, why: string): Promise<{ withdrawn: Entry[]; counts: Counts } | undefined> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    const create = await tx.objectStore('entries').get(createId);
    const identity = create?.provisional && (await tx.objectStore('identities').get(create.provisional.id));
    if (!create || create.state !== 'pending' || create.attempts > 0 || !identity) {
      abort(tx);
      return undefined;
    }
    const withdrawn: Entry[] = [create];
    let cursor = await tx.objectStore('entries').index('queue').openCursor(laneRange(create.lane));
    while (cursor) {
      const entry = cursor.value;
      const under = entry.url === url || entry.url.startsWith(`${url}/`) || entry.url.startsWith(`${url}?`);
      if (entry.id !== createId && entry.state === 'pending' && entry.attempts === 0 && under) withdrawn.push(entry);
      cursor = await cursor.continue();
    }
    for (const entry of withdrawn) {
      void tx.objectStore('entries').delete(entry.id);
      void tx.objectStore('requests').delete(entry.id);
      bump(meta, entry, -1);
    }
    void tx.objectStore('identities').put({ ...identity, lost: why });
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return { withdrawn, counts: countsOf(meta) };
  }

  /** Drops the provisional identities made before `before` whose creates are no longer waiting. */
  async forgetIdentities(before: number): Promise<number> {
    const db = await this.#connect();
    const tx = db.transaction(['identities', 'entries'], 'readwrite', DURABILITY);
    let dropped = 0;
    let cursor = await tx.objectStore('identities').index('at').openCursor(IDBKeyRange.upperBound(before, true));
    while (cursor) {
      if (!(await tx.objectStore('entries').getKey(cursor.value.createdBy))) {
        void cursor.delete();
        dropped += 1;
      }
      cursor = await cursor.continue();
    }
    await tx.done;
    return dropped;
  }

  /** The Idempotency-Keys of the live entries of `lane`: what a migration cut short has moved already. */
  async liveKeys(lane: string): Promise<Set<string>> {
    const db = await this.#connect();
    const live = await db.getAllFromIndex('entries', 'queue', IDBKeyRange.bound([lane, -Infinity], [lane, Infinity]));
    return new Set(live.map((entry) => entry.idempotencyKey));
  }

  /**
   * Counts every state through the index and mends the kept counts if they differ: run
   * when a worker starts, so that counts stay what the store holds whatever happened.
   */
  async verifyCounts(): Promise<Counts> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
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
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return countsOf(meta);
  }

  /** The signed-in user, as the meta record keeps it. */
  async user(): Promise<string | undefined> {
    return ((await this.#connect()).get('meta', META_KEY) as Promise<Meta | undefined>).then((meta) => meta?.user);
  }

  /** Signs a user in (or, with undefined, out): the counts from now on are theirs. */
  async setUser(user: string | undefined): Promise<Counts> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    if (user === undefined) delete meta.user;
    else meta.user = user;
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return countsOf(meta);
  }

  /** How many of a user's writes still wait (pending, sending, waiting for credentials). */
  async waitingFor(user: string): Promise<number> {
    const meta = (await (await this.#connect()).get('meta', META_KEY)) as Meta | undefined;
    return meta?.byUser?.[user]?.pending ?? 0;
  }

  /** Deletes every write of a user, in any state, with its request (body, headers, base). Resolves with their ids. */
  async purge(user: string): Promise<number[]> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    const purged: number[] = [];
    let cursor = await tx.objectStore('entries').openCursor();
    while (cursor) {
      const entry = cursor.value;
      if (entry.user === user) {
        void cursor.delete();
        void tx.objectStore('requests').delete(entry.id);
        bump(meta, entry, -1);
        purged.push(entry.id);
      }
      cursor = await cursor.continue();
    }
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return purged;
  }

  async #onDeadLetter<T extends Transition>(id: number, change: (tx: Tx, meta: Meta, dead: DeadEntry) => Promise<T>): Promise<{ transition: T; counts: Counts }> {
    const { tx, done } = await this.#tx();
    const meta = await readMeta(tx);
    const entry = await tx.objectStore('entries').get(id);
    if (!entry || entry.state !== 'dead') {
      abort(tx);
      if (!entry) throw notFound(id);
      throw new OutboxError('not-a-dead-letter', `sw-outbox entry ${id} is still waiting; only dead letters can be retried or discarded (cancel it first).`);
    }
    const transition = await change(tx, meta, entry);
    void tx.objectStore('meta').put(meta, META_KEY);
    await done(meta);
    return { transition, counts: countsOf(meta) };
  }
}

/** Ends a transaction that must change nothing; its `done` then rejects, which is expected. */
function abort(tx: Tx): void {
  tx.done.catch(() => {});
  tx.abort();
}

function notFound(id: number): OutboxError {
  return new OutboxError('not-found', `sw-outbox has no entry ${id}. Take ids from a snapshot or a status message.`);
}

function notAConflict(id: number): OutboxError {
  return new OutboxError('not-a-conflict', `sw-outbox entry ${id} is not in conflict (any more): only a conflict can be resolved. Take ids from the snapshot's conflicts.`);
}

async function readMeta(tx: Tx): Promise<Meta> {
  return (await tx.objectStore('meta').get(META_KEY)) ?? newMeta();
}

function laneRange(lane: string): IDBKeyRange {
  return IDBKeyRange.bound([lane, -Infinity], [lane, Infinity]);
}

async function laneBusy(tx: Tx, lane: string): Promise<boolean> {
  return (await tx.objectStore('entries').index('queue').getKey(laneRange(lane))) !== undefined;
}

/** The last write of a lane, if any. */
async function laneTail(tx: Tx, lane: string): Promise<QueuedEntry | undefined> {
  return (await tx.objectStore('entries').index('queue').openCursor(laneRange(lane), 'prev'))?.value as QueuedEntry | undefined;
}

/** Stores a transition's entry (or deletes it with its request) and moves the counts with it. */
async function apply(tx: Tx, meta: Meta, id: number, change: Transition): Promise<void> {
  (await applyLater(tx, id, change))(meta);
}

/**
 * Issues the requests that persist a transition at once, and resolves with what moves
 * the counts, which needs the entry as it was (read in the same transaction, first).
 */
async function applyLater(tx: Tx, id: number, change: Transition): Promise<(meta: Meta) => void> {
  const read = tx.objectStore('entries').get(id);
  void write(tx, id, change);
  const before = await read;
  return (meta) => recount(meta, before, change);
}

/** apply() for an entry just read in this transaction (a cursor's): no need to read it again. */
function applyTo(tx: Tx, meta: Meta, before: Entry, change: Transition): void {
  void write(tx, before.id, change);
  recount(meta, before, change);
}

/** A draft as the next entry: its sequence number and counts taken from `meta`, which it moves on. */
function newEntry(meta: Meta, draft: Draft, now: number, claim: { owner: string; timeoutMs: number } | undefined) {
  const id = meta.lastSeq + 1;
  const { request, sealed, ...fields } = draft;
  meta.lastSeq = id;
  const transition = stored(fields, id, now, claim);
  bump(meta, transition.entry, +1);
  const { provisional } = fields;
  const identity: IdentityRecord | undefined = provisional && { provisional: provisional.id, url: provisional.url, createdBy: id, lane: fields.lane, at: now };
  return { id, request: sealed ?? request, transition, identity };
}

/** Issues the requests that persist a transition; the promise settles with them. */
function write(tx: Tx, id: number, change: Transition): Promise<unknown> {
  if (change.identity) void tx.objectStore('identities').put(change.identity);
  if (change.entry && change.request) return Promise.all([tx.objectStore('entries').put(change.entry), tx.objectStore('requests').put(change.request, id)]);
  if (change.entry) return tx.objectStore('entries').put(change.entry);
  return Promise.all([tx.objectStore('entries').delete(id), tx.objectStore('requests').delete(id)]);
}

function recount(meta: Meta, before: Entry | undefined, change: Transition): void {
  if (before) bump(meta, before, -1);
  if (change.entry) bump(meta, change.entry, +1);
}

function bump(meta: Meta, entry: Entry, by: number): void {
  bumpCounts(meta, entry, by);
  if (entry.user === undefined) return;
  meta.byUser ??= {};
  const theirs = (meta.byUser[entry.user] ??= { pending: 0, deadLetters: 0, conflicts: 0 });
  bumpCounts(theirs, entry, by);
  if (theirs.pending === 0 && theirs.deadLetters === 0 && theirs.conflicts === 0) delete meta.byUser[entry.user];
}

function bumpCounts(counts: Counts, entry: Entry, by: number): void {
  if (entry.state === 'dead') counts.deadLetters += by;
  else if (entry.state === 'conflict') counts.conflicts += by;
  else counts.pending += by;
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
    let skipLane = true;
    if (head.state === 'pending' && isExpired(head, rules.now, rules.maxAgeMs)) {
      const change = expired(head, rules.now, rules.maxAgeMs);
      applyTo(tx, meta, head, change);
      result.applied.push(change);
      skipLane = false; // the next entry of the lane is its head now
    } else if (!visibleTo(head, rules.user)) {
      result.blockedLanes.add(head.lane); // another user's: it waits for them to sign in
    } else if (head.state === 'conflict' || head.state === 'needs-auth') {
      result.blockedLanes.add(head.lane); // until the app resolves it, or credentials come: no time makes it due
    } else if (head.state === 'sending' && !rules.goneOwners.has(head.owner)) {
      if (head.owner !== rules.owner) result.foreign.push(head);
    } else if (head.state === 'pending' && !isDue(head, rules.now, rules.force)) {
      result.blockedLanes.add(head.lane);
      result.nextDueAt = Math.min(result.nextDueAt ?? Infinity, head.nextAttemptAt);
    } else if (result.claimed.length < rules.slots) {
      const request = await tx.objectStore('requests').get(head.id);
      if (request) {
        const change = claimed(head, rules.owner, rules.now, rules.timeoutMs);
        applyTo(tx, meta, head, change);
        result.applied.push(change);
        result.claimed.push({ entry: change.entry, request });
      } else {
        // Only a damaged store lacks it; the lane holds, visibly, rather than lose order.
        result.blockedLanes.add(head.lane);
      }
    } else {
      return; // no slot left: the rest waits for the next commit
    }
    cursor = skipLane ? await cursor.continue([head.lane, Infinity]) : await cursor.continue();
  }
}

function sameMeta(a: Meta | undefined, b: Meta): boolean {
  return a !== undefined && a.user === b.user && JSON.stringify(a.byUser ?? {}) === JSON.stringify(b.byUser ?? {}) && a.clientId === b.clientId && a.lastSeq === b.lastSeq && a.pending === b.pending && a.deadLetters === b.deadLetters && a.conflicts === b.conflicts;
}

/** The counts the signed-in user (or, with none, anyone) may see: all but other users' writes. */
function countsOf(meta: Meta): Counts {
  const counts = { pending: meta.pending, deadLetters: meta.deadLetters, conflicts: meta.conflicts };
  for (const [user, theirs] of Object.entries(meta.byUser ?? {})) {
    if (user === meta.user) continue;
    counts.pending -= theirs.pending;
    counts.deadLetters -= theirs.deadLetters;
    counts.conflicts -= theirs.conflicts;
  }
  return counts;
}

/** Whether the signed-in user (`user`) may see an entry: one of theirs, or one made with no user signed in. */
export function visibleTo(entry: Pick<Entry, 'user'>, user: string | undefined): boolean {
  return entry.user === undefined || entry.user === user;
}
