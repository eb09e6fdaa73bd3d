/**
 * The commands a page sends the worker over a MessagePort, and their replies: the other
 * half of the page↔worker contract (protocol.ts has the names, the entries' metadata and
 * the channel's messages). Both sides import this file, so it uses no worker-only or
 * page-only types.
 */
import type { OutboxErrorCode } from './outbox-error.js';
import { isOurs, PROTOCOL_NAME, type ConflictDetails, type Counts, type EntryMeta, type LaneMeta, type PROTOCOL_VERSION, type Resolution } from './protocol.js';

/** The whole state, sent in answer to a `snapshot` command. */
export interface Snapshot {
  counts: Counts;
  /** The first `limit` waiting entries, in sequence order (`counts` has them all). */
  entries: EntryMeta[];
  /** The first `limit` dead letters, in sequence order. */
  deadLetters: EntryMeta[];
  /** The first `limit` conflicts, in sequence order. */
  conflicts: EntryMeta[];
  /** The first `limit` lanes with writes waiting, each with the entry at its head. */
  lanes: LaneMeta[];
  /** When the first waiting lane head is due, if any. */
  nextAttemptAt: number | null;
  /** The failure of a waiting lane head, if any. */
  lastError: string | null;
  /** The origin's storage as the browser reports it (`navigator.storage`); null where it does not. */
  storage: StorageState | null;
}

/** How much the origin stores, of how much it may, and whether the browser keeps it under pressure. */
export interface StorageState {
  /** Bytes the origin uses, all storage together (`estimate().usage`). */
  usage: number;
  /** Bytes it may use (`estimate().quota`). */
  quota: number;
  /** The browser granted persistence (`persisted()`): it will not evict the outbox under storage pressure. */
  persisted: boolean;
}

/**
 * A write that waits (or is being sent), as `pending` gives it to a page of the origin so
 * that the page can show its own unsent changes over what it read. Bodies travel only on
 * the command's own port, never on the status channel.
 */
export interface PendingWrite extends EntryMeta {
  /** The write was made by the page that asked (its window client). */
  mine: boolean;
  /** The request's Content-Type, if it had one. */
  contentType: string | null;
  /** The request body, when the page asked for bodies. */
  body?: ArrayBuffer | null;
  /**
   * Encrypted at rest, and not readable now (the worker does not hold the device's private
   * key, which it fetches only online): no body and no content type until it is.
   */
  sealed?: true;
}

/** How many entries, dead letters and lanes a snapshot lists unless asked for another number. */
export const DEFAULT_SNAPSHOT_LIMIT = 50;

/**
 * The commands a page may send the worker: each one's arguments, and what its reply
 * carries beside `ok: true`. The page helper's sender and the worker's dispatcher are both
 * typed by it. The replies' member names are those of protocol version 2 since its start,
 * so that a page and a worker of releases that both speak it understand each other.
 */
export interface Commands {
  /** `force`: the page has reason to think the network is back (online, visible, user). */
  replay: { args: { force: boolean }; reply: object };
  snapshot: { args: { limit: number }; reply: { snapshot: Snapshot } };
  /** The first `limit` waiting writes in order, with their bodies if asked. */
  pending: { args: { limit: number; bodies: boolean }; reply: { pending: PendingWrite[] } };
  /** A dead letter sent again: the entry, waiting again. */
  retry: { args: { id: number }; reply: { entry: EntryMeta } };
  discard: { args: { id: number }; reply: object };
  cancel: { args: { id: number }; reply: object };
  /** A conflict's mine, theirs and entry, for the page to show. */
  conflict: { args: { id: number }; reply: { conflict: ConflictDetails } };
  /** The entry, waiting again; none when the resolution dropped it (`keep: 'theirs'`). */
  resolve: { args: { id: number; resolution: Resolution }; reply: { entry?: EntryMeta } };
  /** Credentials changed (a sign-in, a refreshed token): writes waiting for them are sent again. */
  'credentials-changed': { args: object; reply: object };
  /** This page can give credentials now (it registered onCredentials): writes waiting for them are sent again, asking it. */
  'credentials-offered': { args: object; reply: object };
  /** From now on, writes are this user's, and only this user's waiting writes are sent and shown. */
  'sign-in': { args: { user: string }; reply: object };
  /** No user from now on; the signed-out user's waiting writes are kept, sent first, or erased. */
  'sign-out': { args: { pending: SignOutPending; timeoutMs: number }; reply: { signedOut: SignOutResult } };
  /** Take control of the pages in scope that have none (a hard reload leaves a page without). */
  claim: { args: object; reply: object };
  /** Reads the page made before the worker controlled it: those under `reads` are fetched into the cache (a first visit). */
  'keep-reads': { args: { urls: string[] }; reply: object };
  /** The asking page's own client id, to tell its writes (`madeBy`) from other tabs'. */
  whoami: { args: object; reply: { page: string } };
}

export type CommandType = keyof Commands;

/** A command as posted (with a MessagePort for the reply). */
export type Command<T extends CommandType = CommandType> = T extends CommandType ? { protocol: typeof PROTOCOL_NAME; version: typeof PROTOCOL_VERSION; type: T } & Commands[T]['args'] : never;

/** A command's reply: what it carries, or an error with one of the codes apps branch on. */
export type CommandReply<T extends CommandType = CommandType> = ({ ok: true } & Commands[T]['reply']) | { ok: false; error: { code: OutboxErrorCode; message: string } };

/**
 * The worker's request to a page for the credential headers of a write about to be sent
 * (posted to each window with a MessagePort); the page helper answers on the port with
 * {@link CredentialsReply}.
 */
export interface CredentialsRequest {
  protocol: typeof PROTOCOL_NAME;
  version: typeof PROTOCOL_VERSION;
  type: 'credentials-request';
  url: string;
  method: string;
  lane: string;
  /** The headers it was made with, by name (lower case). */
  names: string[];
}

/** A page's answer: the headers to send (none: it has none to give). */
export interface CredentialsReply {
  headers: Record<string, string> | null;
}

/**
 * What becomes of the writes a user leaves waiting at sign-out: `keep` them for when the
 * user signs in again (the default), `flush` them first (wait up to timeoutMs for them to
 * be sent), or `purge` them (delete them, bodies included).
 */
export type SignOutPending = 'keep' | 'flush' | 'purge';

/** What sign-out did with the user's writes. */
export interface SignOutResult {
  /** Sent while signing out (`flush`). */
  sent: number;
  /** Still waiting for the user, kept. */
  kept: number;
  /** Deleted (`purge`). */
  purged: number;
}

/** Sent at once on a command's port, before its reply: the worker is there and speaks this protocol. */
export interface CommandAck {
  ack: true;
}

export function isCommand(data: unknown): data is Command {
  return isOurs(data);
}

/**
 * The protocol version of a message of sw-outbox's, whatever its version; undefined for
 * anyone else's. A page and a worker of different releases tell each other apart by it.
 */
export function protocolVersionOf(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || (data as { protocol?: unknown }).protocol !== PROTOCOL_NAME) return undefined;
  return (data as { version?: unknown }).version;
}

/** The reply to a command of another protocol version: its shape is kept the same in every version. */
export function protocolMismatch(pageVersion: unknown, workerVersion: unknown): CommandReply & { ok: false } {
  return {
    ok: false,
    error: {
      code: 'protocol-mismatch',
      message: `sw-outbox: the page speaks protocol version ${String(pageVersion)} and the worker version ${String(workerVersion)}: they are from different releases. Reload the page to load the files that match the worker.`,
    },
  };
}
