import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { OutboxError } from './outbox-error.js';
import { newIdempotencyKey, type Counts, type EntryMeta } from './protocol.js';
import { keySpent } from './retry-policy.js';

/** A write as it is kept in IndexedDB: plain cloneable data, readable in DevTools. */
export interface OutboxEntry {
  /** Per-client monotonic sequence number; also the IndexedDB key, so keys sort in send order. */
  seq: number;
  method: string;
  url: string;
  /** The app's own request headers, in order, without Idempotency-Key (kept below). */
  headers: [string, string][];
  /** ArrayBuffer rather than Blob: Safari cannot keep Blobs in IndexedDB. */
  body: ArrayBuffer | null;
  credentials: RequestCredentials;
  mode: RequestMode;
  redirect: RequestRedirect;
  /** The page the write came from, sent again so the server sees what it would have. */
  referrer: string;
  idempotencyKey: string;
  state: 'pending' | 'dead';
  createdAt: number;
  nextAttemptAt: number;
  /** Attempts started. Written before each attempt, so a worker killed mid-send leaves a trace. */
  attempts: number;
  /** Retryable answers so far, counted against maxAttempts. */
  retryableResponses: number;
  /** The latest attempt got no answer: the server may still be working on it. */
  unanswered: boolean;
  lastStatus?: number;
  lastError?: string;
  deadReason?: string;
}

/** What a new entry is made of; the store adds the sequence and the bookkeeping. */
export type EntryDraft = Pick<
  OutboxEntry,
  'method' | 'url' | 'headers' | 'body' | 'credentials' | 'mode' | 'redirect' | 'referrer' | 'idempotencyKey'
>;

/** What {@link OutboxStore.claimNext} found at the head of the queue. */
export interface Claim {
  /** Entries found past maxAgeMs on the way, now dead letters. */
  expired: OutboxEntry[];
  /** The entry to send now, its attempt already recorded. */
  next?: { entry: OutboxEntry; previousUnanswered: boolean };
  /** When nothing is due: the time the head of the queue is due. */
  waitUntil?: number;
}

interface Meta {
  clientId: string;
  lastSeq: number;
}

const DB_NAME = 'sw-outbox';
const STORE_NAME = 'entries';
const META_KEY = 'meta';
// Entries have number keys, the meta record a string key; IndexedDB sorts every number
// before every string, so this range holds exactly the entries, in sequence order.
const ENTRIES = IDBKeyRange.bound(0, Infinity);

/** Whether a claim may send an entry before its scheduled time. */
export interface ClaimRules {
  now: number;
  maxAgeMs: number;
  /**
   * The caller has reason to think the network is back (a sync event, the page going
   * online or visible, a new write): an entry that waits only because its last attempt
   * got no answer is due now. Waits a server asked for (Retry-After, 5xx) still hold.
   */
  force: boolean;
}

/** The outbox in IndexedDB. Every method is one transaction. */
export class OutboxStore {
  readonly #store: UseStore;
  #clientId: Promise<string> | undefined;

  constructor(dbName = DB_NAME) {
    this.#store = createStore(dbName, STORE_NAME);
  }

  /** Adds a write at the tail of the queue, with the next sequence number. */
  add(draft: EntryDraft, now: number): Promise<OutboxEntry> {
    return this.#store('readwrite', async (store) => {
      const entry = await this.#append(store, draft, now);
      await promisifyRequest(store.transaction);
      return entry;
    });
  }

  /** The stable id of this outbox, made on first use. */
  clientId(): Promise<string> {
    this.#clientId ??= this.#store('readwrite', async (store) => {
      const meta = await this.#meta(store);
      store.put(meta, META_KEY);
      await promisifyRequest(store.transaction);
      return meta.clientId;
    });
    return this.#clientId;
  }

  /**
   * Finds the first pending entry. If it is due, records the attempt and returns it;
   * otherwise says when it will be. Dead letters are passed over, so they never block
   * the entries behind them; entries past maxAgeMs become dead letters on the way.
   */
  claimNext(rules: ClaimRules): Promise<Claim> {
    return this.#store('readwrite', async (store) => {
      const claim: Claim = { expired: [] };
      const request = store.openCursor(ENTRIES);
      let cursor = await nextResult(request);
      while (cursor) {
        const entry = cursor.value as OutboxEntry;
        if (entry.state === 'pending' && rules.now - entry.createdAt > rules.maxAgeMs) {
          entry.state = 'dead';
          entry.deadReason = `not delivered within maxAgeMs (${rules.maxAgeMs} ms)`;
          cursor.update(entry);
          claim.expired.push(entry);
        } else if (entry.state === 'pending') {
          const due = entry.nextAttemptAt <= rules.now || (rules.force && entry.unanswered);
          if (!due) {
            claim.waitUntil = entry.nextAttemptAt;
            break;
          }
          const previousUnanswered = entry.unanswered;
          entry.attempts += 1;
          entry.unanswered = true;
          cursor.update(entry);
          claim.next = { entry, previousUnanswered };
          break;
        }
        cursor.continue();
        cursor = await nextResult(request);
      }
      await promisifyRequest(store.transaction);
      return claim;
    });
  }

  /** Writes an entry back after an attempt (rescheduled, or dead-lettered). */
  put(entry: OutboxEntry): Promise<void> {
    return this.#store('readwrite', (store) => {
      store.put(entry, entry.seq);
      return promisifyRequest(store.transaction);
    });
  }

  /** Removes an entry whose answer has settled it. */
  delete(seq: number): Promise<void> {
    return this.#store('readwrite', (store) => {
      store.delete(seq);
      return promisifyRequest(store.transaction);
    });
  }

  /** Every entry, pending and dead, in sequence order. */
  all(): Promise<OutboxEntry[]> {
    return this.#store('readonly', (store) => promisifyRequest(store.getAll(ENTRIES)));
  }

  /**
   * Gives a dead letter another chance: it goes to the tail of the queue with a new
   * sequence number (a server ordering by sequence sees it as the latest write, which it
   * now is). It keeps its Idempotency-Key, as the same intent, unless the server refused
   * it with a 4xx: that key's answer is kept by the server, so the retry gets a new key.
   */
  requeue(seq: number, now: number): Promise<OutboxEntry> {
    return this.#store('readwrite', async (store) => {
      const dead = await deadLetter(store, seq);
      const { method, url, headers, body, credentials, mode, redirect, referrer } = dead;
      const idempotencyKey = keySpent(dead) ? newIdempotencyKey() : dead.idempotencyKey;
      store.delete(seq);
      const entry = await this.#append(store, { method, url, headers, body, credentials, mode, redirect, referrer, idempotencyKey }, now);
      await promisifyRequest(store.transaction);
      return entry;
    });
  }

  /** Deletes a dead letter for good, at the app's request. */
  discard(seq: number): Promise<OutboxEntry> {
    return this.#store('readwrite', async (store) => {
      const dead = await deadLetter(store, seq);
      store.delete(seq);
      await promisifyRequest(store.transaction);
      return dead;
    });
  }

  /** Puts a write at the tail of the queue, with the next sequence, in the caller's transaction. */
  async #append(store: IDBObjectStore, draft: EntryDraft, now: number): Promise<OutboxEntry> {
    const meta = await this.#meta(store);
    meta.lastSeq += 1;
    const entry: OutboxEntry = {
      ...draft,
      seq: meta.lastSeq,
      state: 'pending',
      createdAt: now,
      nextAttemptAt: now,
      attempts: 0,
      retryableResponses: 0,
      unanswered: false,
    };
    store.put(meta, META_KEY);
    store.put(entry, entry.seq);
    return entry;
  }

  async #meta(store: IDBObjectStore): Promise<Meta> {
    const meta = (await promisifyRequest(store.get(META_KEY))) as Meta | undefined;
    return meta ?? { clientId: crypto.randomUUID(), lastSeq: 0 };
  }
}

async function deadLetter(store: IDBObjectStore, seq: number): Promise<OutboxEntry> {
  const entry = (await promisifyRequest(store.get(seq))) as OutboxEntry | undefined;
  if (!entry) throw new OutboxError('not-found', `sw-outbox has no entry ${seq}. Take ids from a snapshot or a status message.`);
  if (entry.state !== 'dead') {
    throw new OutboxError('not-a-dead-letter', `sw-outbox entry ${seq} is still pending; only dead letters can be retried or discarded.`);
  }
  return entry;
}

/** Resolves with a request's next result: a cursor request succeeds once per step. */
function nextResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function countEntries(entries: OutboxEntry[]): Counts {
  const deadLetters = entries.filter((entry) => entry.state === 'dead').length;
  return { pending: entries.length - deadLetters, deadLetters };
}

/** An entry as pages may see it: no body, no header values. */
export function toMeta(entry: OutboxEntry, sending = false): EntryMeta {
  const meta: EntryMeta = {
    id: entry.seq,
    method: entry.method,
    url: entry.url,
    state: sending ? 'sending' : entry.state,
    attempts: entry.attempts,
    createdAt: entry.createdAt,
    nextAttemptAt: entry.nextAttemptAt,
  };
  if (entry.lastStatus !== undefined) meta.lastStatus = entry.lastStatus;
  if (entry.lastError !== undefined) meta.lastError = entry.lastError;
  if (entry.deadReason !== undefined) meta.deadReason = entry.deadReason;
  return meta;
}
