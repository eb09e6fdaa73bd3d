import type { Json } from '../contract/json-merge.js';
import type { ConflictAnswer, DeadReasonCode, Problem } from './protocol.js';
import type { Provisional } from './identities.js';

/**
 * An outbox entry: the metadata of one write, as the `entries` store keeps it. The
 * request itself (headers, body) lives apart, in `requests`, so that counting, claiming
 * and snapshots never load a body. The type says which fields go with which state.
 */

interface EntryBase {
  /** The entry's key for life: the page's 202 body names it, and retry keeps it. */
  id: number;
  /**
   * Per-client monotonic sequence number: the order the app made its writes in, sent as
   * Outbox-Sequence. The same as `id` until the entry is retried, which puts it at the tail.
   */
  seq: number;
  /** Writes in one lane are sent in `seq` order; lanes are independent of each other. */
  lane: string;
  method: string;
  url: string;
  idempotencyKey: string;
  /** Device time the write was made; used for maxAgeMs, never for order. */
  createdAt: number;
  /** Attempts started, counting one in progress. */
  attempts: number;
  /** Retryable answers (408, 425, 429, 5xx) so far: these count against retry.maxRetryableAnswers. */
  retryableResponses: number;
  /**
   * An attempt with this key got no answer (or only "still in flight" since), so the
   * server may still be committing it: the key must not be given up or replaced.
   */
  mayBeCommitting: boolean;
  lastStatus?: number;
  lastError?: string;
  /**
   * Device time the first of its latest attempts that got no answer (network error, timeout)
   * started; none once one is answered. The outage rule's wait grows with the time since
   * then, not since the write was made: a write that waited behind others, or on a slow
   * server that answered a second ago, has not been failing all that time (decision 0006).
   */
  unansweredSince?: number;
  /** Its attempts fail without an answer while other writes to its origin are answered. */
  failingAlone?: true;
  /** The id of the window client (the page) that made the write, when the browser gave one. */
  madeBy?: string;
  /**
   * The user signed in when it was made (outbox.signIn): it is sent only while that user
   * is signed in, in lanes of that user's own, and only that user's pages see it.
   */
  user?: string;
  /** A create on a `collections` path: the identity its page was given (decision 0022). */
  provisional?: Provisional;
}

/** Waiting for its turn or for its next attempt. */
export interface PendingEntry extends EntryBase {
  state: 'pending';
  nextAttemptAt: number;
  /**
   * What it waits for: its first turn; the network, after an attempt that got no answer
   * (a sign that the network is back makes it due at once); or the server, which asked
   * for the wait (5xx, Retry-After, still processing), and that wait holds.
   */
  waitsFor: 'turn' | 'network' | 'server';
  /** `[lane, seq]`, the key of the `queue` index: only live entries have it. */
  queue: [string, number];
}

/** An attempt is under way (or was, in a worker that died: see `owner`). */
export interface SendingEntry extends EntryBase {
  state: 'sending';
  /** Device time the attempt started. */
  attemptAt: number;
  /** The worker instance sending it; a claim by another worker checks that it still lives. */
  owner: string;
  queue: [string, number];
}

/** Kept until the app retries or discards it; blocks nothing. */
export interface DeadEntry extends EntryBase {
  state: 'dead';
  deadAt: number;
  reason: { code: DeadReasonCode; detail: string; problem?: Problem };
}

/**
 * Refused as a conflict (409, 412, 428): the resource changed since the app read it. It
 * keeps its place at the head of its lane, and the writes behind it wait (they may depend
 * on it), until the app resolves it (decision 0018).
 */
export interface ConflictEntry extends EntryBase {
  state: 'conflict';
  conflictAt: number;
  answer: ConflictAnswer;
  queue: [string, number];
}

/**
 * Answered 401 or 403 on replay: the credentials it was sent with are no good any more.
 * It holds its lane, like a conflict, until the page says credentials changed (decision 0019).
 */
export interface NeedsAuthEntry extends EntryBase {
  state: 'needs-auth';
  queue: [string, number];
}

export type Entry = PendingEntry | SendingEntry | DeadEntry | ConflictEntry | NeedsAuthEntry;
/** An entry that is sent, or is being sent. */
export type LiveEntry = PendingEntry | SendingEntry;
/** An entry that holds its place in its lane (it has `queue`). */
export type QueuedEntry = LiveEntry | ConflictEntry | NeedsAuthEntry;

/** The request of an entry, as the `requests` store keeps it (key: the entry's id). */
export interface StoredRequest {
  /** The app's own headers, in order, without Idempotency-Key (kept on the entry). */
  headers: [string, string][];
  /** ArrayBuffer rather than Blob: Safari cannot keep Blobs in IndexedDB. */
  body: ArrayBuffer | null;
  credentials: RequestCredentials;
  mode: RequestMode;
  redirect: RequestRedirect;
  /** The page the write came from, sent again so the server sees what it would have. */
  referrer: string;
  /**
   * The credential headers the write was made with, by name only: their values are never
   * stored, and are asked for again at each attempt (decision 0019).
   */
  credentialNames?: string[];
  /**
   * A conflict's "theirs": the server's current representation, when its answer gave it
   * (sw-outbox/server's `current`, or a JSON body that is no problem). Kept here, not on
   * the entry, so that snapshots never read it.
   */
  theirs?: Json;
  /**
   * On a `merge` path, the representation the write's If-Match names, as the outbox last
   * saw it: the base of a three-way merge. It goes with the write, and is deleted with it.
   */
  base?: Json;
}

/** A `requests` record: the request itself, or, with encryption at rest, sealed (decision 0021). */
export type KeptRequest = StoredRequest | SealedRequest;

/** What a new entry is made of, before the store gives it its sequence number. */
export interface NewEntry {
  method: string;
  url: string;
  lane: string;
  idempotencyKey: string;
  madeBy?: string;
  user?: string;
  provisional?: Provisional;
}

/** A write as the fetch handler reads it, before the store gives it an id. */
export interface Draft extends NewEntry {
  request: StoredRequest;
  /** The request sealed, when the outbox encrypts at rest: the store keeps this instead. */
  sealed?: SealedRequest;
}

/** A JSON representation of a resource as an answer gave it, with its ETag (the `representations` store). */
export type Representation = {
  url: string;
  etag: string;
  /** Device time it was seen: the oldest go first. */
  at: number;
  /** The JSON itself, or, with encryption at rest, its text sealed. */
} & ({ body: Json } | { sealed: SealedBox });

/** A sealed record as IndexedDB keeps it: nothing in it is readable without the private key. */
export interface SealedBox {
  /** The device key it is sealed to (the server's id for it). */
  kid: string;
  /** The ephemeral ECDH public key, raw (65 bytes). */
  epk: ArrayBuffer;
  iv: ArrayBuffer;
  /** AES-GCM ciphertext and tag. */
  data: ArrayBuffer;
}

/** A `requests` record sealed: everything of the request (headers, body, base, theirs) is inside. */
export interface SealedRequest {
  sealed: SealedBox;
}

export function isSealed(record: StoredRequest | SealedRequest): record is SealedRequest {
  return 'sealed' in record;
}

/** Reads a kept request that may be sealed; undefined: it cannot be read now (the write then says `sealed`). */
export type OpenRequest = (record: KeptRequest) => Promise<StoredRequest | undefined>;
