/**
 * The outbox's IndexedDB database: its name, version, stores, indexes and upgrade steps.
 * Only this file knows them; the store above it speaks in queue terms.
 *
 *   entries   an entry's metadata (sw/entry.ts), key `id`; indexes:
 *             queue  [lane, id] of live entries only (dead letters lack the field), so
 *                    the head of each lane is one cursor step and never loads a body
 *             state  [state, id], for counts and paged snapshots
 *   requests  the request of each entry (headers, body), key: the entry's id
 *   meta      one record, `meta`: the client id, the last sequence number, the counts
 *   representations  JSON representations seen with an ETag on `merge` paths, key
 *             [url, etag]; index `at`, to drop the oldest: the versions a merge starts from
 *   keys      the public halves of device keys, key `user` ('' for none): what writes are
 *             sealed to, with encryption at rest (decision 0021)
 *   identities  provisional identities given to creates on `collections` paths, key
 *             `provisional`; index `at`, to drop the old: provisional to real (decision 0022)
 */
import { openDB, unwrap, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import type { DeadEntry, Entry, KeptRequest, PendingEntry, Representation, StoredRequest } from './entry.js';
import type { KeptKey } from './device-key.js';
import type { IdentityRecord } from './identities.js';
import { laneFor } from './lanes.js';
import { DEFAULT_LANE, type Counts } from './protocol.js';

export const DB_NAME = 'sw-outbox';
/**
 * 1: sw-outbox 0.1 (idb-keyval, one store). 2: entries and requests apart, indexes, counts.
 * 3: the `conflict` state, counted in meta (a worker of version 2 would send a conflict
 * again, so it must not open this database), and `representations` (decision 0018).
 * 4: `keys`, and `requests` records that may be sealed, which a worker of version 3 would
 * send as they are (decision 0021).
 * 5: `identities`, and entries whose writes name provisional identities, which a worker of
 * version 4 would send to the provisional URL (decision 0022).
 */
export const DB_VERSION = 5;

export interface Meta extends Counts {
  clientId: string;
  lastSeq: number;
  /** The user signed in (outbox.signIn), if any. */
  user?: string;
  /** The counts of each user's writes (they are in the totals too), so that a user sees only theirs and no one's else. */
  byUser?: Record<string, Counts>;
}

export interface OutboxSchema extends DBSchema {
  entries: { key: number; value: Entry; indexes: { queue: [string, number]; state: [string, number] } };
  requests: { key: number; value: KeptRequest };
  meta: { key: 'meta'; value: Meta };
  representations: { key: [string, string]; value: Representation; indexes: { at: number } };
  keys: { key: string; value: KeptKey };
  identities: { key: string; value: IdentityRecord; indexes: { at: number } };
}

export type OutboxDb = IDBPDatabase<OutboxSchema>;
export const META_KEY = 'meta';

/**
 * Opens the database, creating or upgrading it. `origin` is the worker's own: entries
 * kept by 0.1 for other origins get those origins' lanes. The connection closes itself
 * when a newer version of the outbox wants to upgrade, and `onClose` lets the caller
 * open it again on next use.
 */
export function openOutboxDb(origin: string, onClose: () => void, name = DB_NAME): Promise<OutboxDb> {
  return openDB<OutboxSchema>(name, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, transaction) {
      if (oldVersion < 1) {
        createStores(db);
        return;
      }
      // An upgrade that fails half-way must keep nothing of itself: the data stays as it was.
      if (oldVersion < 2) {
        upgradeFromV1(db, transaction, origin).catch(() => transaction.abort());
        return;
      }
      if (oldVersion < 3) upgradeFromV2(db, transaction).catch(() => transaction.abort());
      // 3 to 4: a store of its own; the writes waiting stay as they are (plain), and are sent so.
      if (oldVersion < 4) createKeys(db);
      // 4 to 5: a store of its own; no write kept before names a provisional identity.
      if (oldVersion < 5) createIdentities(db);
    },
    blocking(_current, _blocked, event) {
      (event.target as IDBDatabase).close();
      onClose();
    },
    terminated: onClose,
  });
}

export function newMeta(): Meta {
  return { clientId: crypto.randomUUID(), lastSeq: 0, pending: 0, deadLetters: 0, conflicts: 0 };
}

/**
 * 2 to 3: the stores stay as they are, and `representations` is new; the meta record
 * counts conflicts, of which a version-2 outbox has none (it made its conflicts dead
 * letters, and they stay so).
 */
async function upgradeFromV2(db: OutboxDb, transaction: IDBPTransaction<OutboxSchema, ('entries' | 'requests' | 'meta' | 'representations' | 'keys' | 'identities')[], 'versionchange'>): Promise<void> {
  createRepresentations(db);
  const meta = transaction.objectStore('meta');
  const v2 = await meta.get(META_KEY);
  if (v2) await meta.put({ ...v2, conflicts: 0 }, META_KEY);
}

function createStores(db: OutboxDb): void {
  const entries = db.createObjectStore('entries', { keyPath: 'id' });
  entries.createIndex('queue', 'queue');
  entries.createIndex('state', ['state', 'seq']);
  db.createObjectStore('requests');
  db.createObjectStore('meta');
  createRepresentations(db);
  createKeys(db);
  createIdentities(db);
}

function createIdentities(db: OutboxDb): void {
  db.createObjectStore('identities', { keyPath: 'provisional' }).createIndex('at', 'at');
}

function createKeys(db: OutboxDb): void {
  db.createObjectStore('keys', { keyPath: 'user' });
}

function createRepresentations(db: OutboxDb): void {
  db.createObjectStore('representations', { keyPath: ['url', 'etag'] }).createIndex('at', 'at');
}

/** What sw-outbox 0.1 kept under a number key in its one `entries` store: the request, and its state beside it. */
interface V1Entry extends StoredRequest {
  seq: number;
  method: string;
  url: string;
  idempotencyKey: string;
  state: 'pending' | 'dead';
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
  retryableResponses: number;
  unanswered: boolean;
  lastStatus?: number;
  lastError?: string;
  deadReason?: string;
}

/**
 * 0.1 to 2: every entry, pending or dead, is kept with its sequence number, its key and
 * its history, in the default lane of its origin; the client id and the last sequence
 * carry over, so the server sees the same client counting on. The old store is renamed
 * out of the way, read with a cursor (one record in memory at a time), then deleted.
 */
async function upgradeFromV1(db: OutboxDb, transaction: IDBPTransaction<OutboxSchema, ('entries' | 'requests' | 'meta' | 'representations' | 'keys' | 'identities')[], 'versionchange'>, origin: string): Promise<void> {
  const OLD = 'entries-v1';
  unwrap(transaction.objectStore('entries')).name = OLD;
  createStores(db);
  const meta = newMeta();
  const old = unwrap(transaction).objectStore(OLD);
  const entries = transaction.objectStore('entries');
  const requests = transaction.objectStore('requests');
  await new Promise<void>((resolve, reject) => {
    const cursorRequest = old.openCursor();
    cursorRequest.onerror = () => reject(cursorRequest.error);
    cursorRequest.onsuccess = () => {
      const cursor = cursorRequest.result;
      if (!cursor) return resolve();
      if (cursor.key === META_KEY) {
        const v1 = cursor.value as { clientId: string; lastSeq: number };
        meta.clientId = v1.clientId;
        meta.lastSeq = Math.max(meta.lastSeq, v1.lastSeq);
      } else {
        const v1 = cursor.value as V1Entry;
        const { headers, body, credentials, mode, redirect, referrer } = v1;
        const entry = fromV1(v1, laneFor(DEFAULT_LANE, v1.url, origin));
        void entries.put(entry);
        void requests.put({ headers, body, credentials, mode, redirect, referrer }, v1.seq);
        meta.lastSeq = Math.max(meta.lastSeq, v1.seq);
        if (entry.state === 'dead') meta.deadLetters += 1;
        else meta.pending += 1;
      }
      cursor.continue();
    };
  });
  void transaction.objectStore('meta').put(meta, META_KEY);
  db.deleteObjectStore(OLD as 'entries');
}

function fromV1(v1: V1Entry, lane: string): Entry {
  const base = {
    id: v1.seq,
    seq: v1.seq,
    lane,
    method: v1.method,
    url: v1.url,
    idempotencyKey: v1.idempotencyKey,
    createdAt: v1.createdAt,
    attempts: v1.attempts,
    retryableResponses: v1.retryableResponses,
    // 0.1 marked an attempt unanswered before it went out, so a write whose worker died
    // mid-send is one the server may still have applied.
    mayBeCommitting: v1.unanswered,
    ...(v1.lastStatus === undefined ? {} : { lastStatus: v1.lastStatus }),
  };
  if (v1.state === 'dead') {
    const detail = v1.deadReason ?? `HTTP ${v1.lastStatus ?? '?'}`;
    const code = detail.startsWith('gave up') ? 'gave-up' : detail.startsWith('not delivered') ? 'expired' : /^HTTP (409|412|428)\b/.test(detail) ? 'conflict' : 'rejected';
    const dead: DeadEntry = { ...base, state: 'dead', deadAt: v1.nextAttemptAt, reason: { code, detail } };
    return dead;
  }
  const pending: PendingEntry = {
    ...base,
    ...(v1.lastError === undefined ? {} : { lastError: v1.lastError }),
    state: 'pending',
    queue: [lane, v1.seq],
    nextAttemptAt: v1.nextAttemptAt,
    waitsFor: v1.attempts === 0 ? 'turn' : v1.unanswered ? 'network' : 'server',
  };
  return pending;
}
