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
export const PROTOCOL_VERSION = 1;

/** Marks our messages apart from a host app's own messages. */
export const PROTOCOL_NAME = 'sw-outbox';

/** Request headers the worker stamps on every write it handles. */
export const HEADERS = {
  /** IETF httpapi Idempotency-Key: an sf-string, the same on every replay. */
  idempotencyKey: 'Idempotency-Key',
  /** Stable id of this browser profile's outbox (a UUID). */
  clientId: 'Outbox-Client-Id',
  /** Per-client monotonic sequence number: the order the app made its writes in. */
  sequence: 'Outbox-Sequence',
} as const;

/** A new Idempotency-Key value in the IETF httpapi draft's format: an sf-string holding a random UUID. */
export function newIdempotencyKey(): string {
  return `"${crypto.randomUUID()}"`;
}

/** Response header set on the outbox's own 202 answer. */
export const QUEUED_HEADER = 'Outbox-Queued';

/** The body of the outbox's 202 answer when a write is kept for later. */
export interface QueuedBody {
  queued: true;
  /** The entry's id, as used by snapshots, retry and discard. */
  id: number;
  idempotencyKey: string;
}

export type EntryState = 'pending' | 'sending' | 'dead';

/** What pages may know of an entry: no body, no header values. */
export interface EntryMeta {
  /** The entry's sequence number, which is also its IndexedDB key. */
  id: number;
  method: string;
  url: string;
  state: EntryState;
  /** Attempts started so far. */
  attempts: number;
  /** Device time the write was made (ms since epoch); used for max age, never for order. */
  createdAt: number;
  /** Device time of the next attempt (ms since epoch). */
  nextAttemptAt: number;
  /** HTTP status of the latest answer, if there was one. */
  lastStatus?: number;
  /** Why the latest attempt failed. */
  lastError?: string;
  /** Why the entry is a dead letter. */
  deadReason?: string;
}

export interface Counts {
  /** Writes waiting to be delivered, including the one being sent. */
  pending: number;
  /** Writes that need the app's decision: retry or discard. */
  deadLetters: number;
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
  | { type: 'sending'; entry: EntryMeta }
  /** The server's answer settled the entry: 2xx or 3xx, or a 4xx the waiting page received. */
  | { type: 'sent'; entry: EntryMeta; status: number }
  | { type: 'retry-scheduled'; entry: EntryMeta; retryAt: number; error: string }
  | { type: 'dead-lettered'; entry: EntryMeta; reason: string }
  | { type: 'retried'; entry: EntryMeta }
  | { type: 'discarded'; entry: EntryMeta }
  /** Nothing is waiting any more. */
  | { type: 'drained' };

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

/** The whole state, sent in answer to a `snapshot` command. */
export interface Snapshot {
  counts: Counts;
  /** Waiting entries in the order they will be sent. */
  entries: EntryMeta[];
  deadLetters: EntryMeta[];
  /** When the first waiting entry is due, if any. */
  nextAttemptAt: number | null;
  /** The latest failure of any waiting entry. */
  lastError: string | null;
}

/** Commands a page posts to the worker (with a MessagePort for the answer). */
export type Command = { protocol: typeof PROTOCOL_NAME; version: typeof PROTOCOL_VERSION } & (
  | {
      type: 'replay';
      /** True when the page has reason to think the network is back (online, visible, user). */
      force: boolean;
    }
  | { type: 'snapshot' }
  | { type: 'retry'; id: number }
  | { type: 'discard'; id: number }
);

export type CommandReply =
  | { ok: true; snapshot?: Snapshot }
  | { ok: false; error: { code: string; message: string } };

export function isChannelMessage(data: unknown): data is ChannelMessage {
  return isOurs(data);
}

export function isCommand(data: unknown): data is Command {
  return isOurs(data);
}

function isOurs(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { protocol?: unknown }).protocol === PROTOCOL_NAME &&
    (data as { version?: unknown }).version === PROTOCOL_VERSION
  );
}
