/**
 * The contract between the worker and the pages: names, headers and the typed,
 * versioned messages. Both sides import this file, so it uses no worker-only or
 * page-only types.
 */

/** BroadcastChannel on which the worker publishes every state change. */
export const CHANNEL_NAME = 'sw-outbox';

/**
 * Background Sync tag the worker registers while writes wait. DevTools' Application
 * panel > Background services > Sync button fires a sync event with this tag.
 */
export const SYNC_TAG = 'sw-outbox';

/** Version of the message protocol; bumped on any incompatible change. */
export const PROTOCOL_VERSION = 2;

/** Marks our messages apart from a host app's own messages. */
export const PROTOCOL_NAME = 'sw-outbox';

/** The lane of writes that say nothing else: strict order across all of them. */
export const DEFAULT_LANE = 'default';

/** A new Idempotency-Key value in the IETF httpapi draft's format: an sf-string holding a random UUID. */
export function newIdempotencyKey(): string {
  return `"${crypto.randomUUID()}"`;
}

/**
 * The body of the outbox's 202 answer when a write is kept for later. It has no top-level
 * `id` on purpose: model libraries (Backbone, Ember Data, hand-written stores) merge a
 * write's JSON answer into their record, and would take the entry's number for the
 * record's id (decision 0022).
 */
export interface QueuedBody {
  queued: true;
  outbox: {
    /** The entry's id, as used by snapshots, retry and discard. */
    id: number;
    idempotencyKey: string;
  };
}

export type EntryState = 'pending' | 'sending' | 'dead' | 'conflict' | 'needs-auth';

/** Why an entry is a dead letter. */
/**
 * Why a write is a dead letter: `rejected`, a 4xx the server keeps for the key; `conflict`,
 * a 409, 412 or 428 (the resource changed since the app read it); `gave-up`, too many
 * retryable answers; `expired`, not delivered within maxAgeMs; `cancelled`, by the app.
 */
export type DeadReasonCode = 'rejected' | 'conflict' | 'gave-up' | 'expired' | 'cancelled' | 'undecryptable' | 'no-identity';

/** What a problem+json answer (RFC 9457) said, when the server sent one. */
export interface Problem {
  type?: string;
  title?: string;
  detail?: string;
}

/**
 * What the server answered a write it refused as a conflict: its status, the current
 * version's ETag (a resolution is sent against it) and its problem+json, if any.
 */
export interface ConflictAnswer {
  status: number;
  etag?: string;
  problem?: Problem;
  /** The members both sides changed differently (JSON Pointers), when the server or the outbox's merge found them. */
  clashes?: string[];
}

/** How the app settles a conflict (see Outbox.resolve). */
export type Resolution =
  /** Send the write's own body again, against the current version: it overwrites theirs. */
  | { keep: 'mine' }
  /** Drop the write: the server's version stands. The write is reported as superseded. */
  | { keep: 'theirs' }
  /** Send this body instead (a merge the person made), against the current version. */
  | { body: string | ArrayBuffer | ArrayBufferView }
  /** Send this value as JSON instead, against the current version. */
  | { json: unknown };

/** What a page needs to show a conflict and let the person choose. */
export interface ConflictDetails {
  entry: EntryMeta;
  /** The write's body as sent; JSON-parsed when it is JSON. */
  ours: unknown;
  /** The server's current representation, from its answer or a GET of the URL; undefined when neither gave one. */
  theirs: unknown;
  /** On a `merge` path, the version the write was made to (its If-Match), as the outbox kept it. */
  base?: unknown;
  /** The write's Content-Type, if it had one. */
  contentType: string | null;
}

/** What a `resolve` hook or a path's policy decides for a conflict (`ask`: leave it to the page). */
export type ConflictPolicy = 'ask' | 'merge' | 'theirs' | 'mine';

/** What pages may know of an entry: no body, no header values. */
export interface EntryMeta {
  /** The entry's id for life, as the page's 202 body gave it; also its IndexedDB key. */
  id: number;
  /** Its place in the order (Outbox-Sequence): the id, until a retry puts it at the tail. */
  seq: number;
  /** Its ordering lane ({@link DEFAULT_LANE} unless the app chose one). */
  lane: string;
  method: string;
  url: string;
  state: EntryState;
  /** Attempts started so far. */
  attempts: number;
  /** Device time the write was made (ms since epoch); used for max age, never for order. */
  createdAt: number;
  /** Device time of the next attempt (ms since epoch), while it waits. */
  nextAttemptAt?: number;
  /** HTTP status of the latest answer, if there was one. */
  lastStatus?: number;
  /** Why the latest attempt failed. */
  lastError?: string;
  /** Why the entry is a dead letter, in words. */
  deadReason?: string;
  /** Why the entry is a dead letter, as a stable code to branch on. */
  deadCode?: DeadReasonCode;
  /** The server's problem+json for a dead letter's answer, when it sent one. */
  problem?: Problem;
  /** The id of the window client (page) that made it; a page learns its own from `whoami`. */
  madeBy?: string;
  /** The user signed in when it was made (see signIn); only that user's pages see it. */
  user?: string;
  /** In conflict: what the server answered (no body: that comes with the `conflict` command). */
  conflict?: ConflictAnswer;
  /** While pending: what it waits for (`server`: a wait the server asked for, which Send now does not cut short). */
  waitsFor?: 'turn' | 'network' | 'server';
  /** A create on a `collections` path: the identity its page was given until the server's is known (decision 0022). */
  provisional?: { id: string; url: string };
}

/** A lane that has writes waiting, and the entry at its head that the rest wait on. */
export interface LaneMeta {
  lane: string;
  /** The entry every other write of the lane waits on. */
  head: number;
  /** `conflict`: the head waits for the app to resolve it, and the rest of the lane with it. */
  state: 'pending' | 'sending' | 'conflict' | 'needs-auth';
  /** Live writes in the lane, the head included. */
  waiting: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  /**
   * The head keeps failing without an answer while other writes to its origin are
   * answered: likely not the network but this request (CORS, a proxy, the URL).
   */
  failingAlone: boolean;
}

export interface Counts {
  /** Writes waiting to be delivered, including the one being sent. */
  pending: number;
  /** Writes that need the app's decision: retry or discard. */
  deadLetters: number;
  /** Writes refused as conflicts, each holding its lane until the app resolves it. */
  conflicts: number;
}

interface MessageBase {
  protocol: typeof PROTOCOL_NAME;
  version: typeof PROTOCOL_VERSION;
  /** Device time the message was sent (ms since epoch). */
  at: number;
  /** The queue's counts after this change, so a page can render from any message. */
  counts: Counts;
}

/** The state changes the worker publishes, each with its payload. */
export type StatusEvent =
  | { type: 'queued'; entry: EntryMeta }
  /**
   * An attempt started; its answer is due by `answerBy` (the attempt is abandoned at
   * timeoutMs). A page that hears nothing more of it by then may ask for a replay: the
   * worker may have been stopped mid-send.
   */
  | { type: 'sending'; entry: EntryMeta; answerBy: number }
  /** The server's answer settled the entry: 2xx or 3xx, or a 4xx the waiting page received. */
  | { type: 'sent'; entry: EntryMeta; status: number }
  | { type: 'retry-scheduled'; entry: EntryMeta; retryAt: number; error: string; failingAlone: boolean }
  | { type: 'dead-lettered'; entry: EntryMeta; reason: string }
  /** A dead letter went back to the tail of its lane: the same id, a new `seq`. */
  | { type: 'retried'; entry: EntryMeta }
  | { type: 'discarded'; entry: EntryMeta }
  /** The server refused the write as a conflict: it holds its lane until the app resolves it. */
  | { type: 'conflict'; entry: EntryMeta }
  /**
   * A create's answer gave its real identity: from now on the outbox sends writes naming
   * `provisional` to `real` (decision 0022). An app that can may update its records.
   */
  | { type: 'identified'; entry: EntryMeta; provisional: { id: string; url: string }; real: { id: string | number; url: string } }
  /**
   * A conflict was resolved: `mine`, `body` and `merged` (the outbox's own three-way
   * merge) send the write again against the current version (it waits once more, same id
   * and place); `theirs` drops it, superseded.
   */
  | { type: 'resolved'; entry: EntryMeta; how: 'mine' | 'theirs' | 'body' | 'merged' }
  /**
   * Answered 401 or 403 on replay: the write and its lane wait for fresh credentials
   * (the page helper's credentialsChanged(), or a credentials hook at the next start).
   */
  | { type: 'needs-auth'; entry: EntryMeta }
  /** A write that waited for credentials is to be sent again. */
  | { type: 'resumed'; entry: EntryMeta }
  /** A waiting write was replaced by a later one to the same URL (option `fold`): `into` is that write's id. */
  | { type: 'folded'; entry: EntryMeta; into: number }
  /** Nothing is waiting any more. */
  | { type: 'drained' }
  /** Another user signed in, or the user signed out: what the page shows is someone else's now. */
  | { type: 'user-changed'; user: string | null }
  /**
   * The browser refused to store something. `kept: false`: a new write was not stored
   * (no room, private mode, storage blocked) and was sent once without the outbox, or,
   * if that failed, answered 507 `Outbox-Not-Stored`. `kept: true`: bookkeeping did not
   * fit; writes already kept are still sent.
   */
  | { type: 'storage-full'; kept: boolean; error: string };

/** Everything the worker publishes on {@link CHANNEL_NAME} while it runs. */
export type StatusMessage = MessageBase & StatusEvent;

/** Published by a worker whose options are invalid, just before it fails to install. */
export interface ConfigErrorMessage {
  protocol: typeof PROTOCOL_NAME;
  version: typeof PROTOCOL_VERSION;
  at: number;
  type: 'config-error';
  error: { code: string; message: string };
}

export type ChannelMessage = StatusMessage | ConfigErrorMessage;

export function isChannelMessage(data: unknown): data is ChannelMessage {
  return isOurs(data);
}

export function isOurs(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { protocol?: unknown }).protocol === PROTOCOL_NAME &&
    (data as { version?: unknown }).version === PROTOCOL_VERSION
  );
}
