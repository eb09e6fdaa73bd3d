/**
 * What the outbox runs on (OutboxDeps: the worker's own by default, see create-outbox.ts;
 * tests pass theirs), what the app gives it (OutboxHooks), and what it hands back.
 */
import type { LiveEntry } from './entry.js';
import type { LaneHook } from './lanes.js';
import type { Logger } from './logger.js';
import type { OutboxStore } from './outbox-store.js';
import type { ConflictDetails, ConflictPolicy, Counts, Resolution, StatusEvent } from './protocol.js';
import type { StorageState } from './commands.js';

/**
 * What starts a replay. The forcing ones give reason to think the network is back, so an
 * entry waiting only for the network is tried at once.
 */
export type Trigger = 'write' | 'sync' | 'page' | 'timer' | 'start';

/**
 * The outcome of a page's write, as its fetch handler needs it: the server's final answer
 * when it came while the page waited, else the entry that keeps the write for later.
 */
export type WriteResult =
  | { kind: 'answered'; response: Response }
  /** Kept for later; `signIn`: its attempt met this sign-in page (the session ended). */
  | { kind: 'kept'; entry: LiveEntry; body: ArrayBuffer | null; signIn?: string }
  /** The browser would not store it, and sending it at once failed too: neither kept nor sent. */
  | { kind: 'not-stored'; error: string };

/** What a page waiting for its write is handed: the server's answer, or none (kept), with the sign-in page it met if the session ended. */
export type WaiterAnswer = { response?: Response | undefined; signIn?: string | undefined };

/** Functions the app gives the outbox, for what a query string cannot say. */
export interface OutboxHooks {
  /** A write's lane, when its request has no `Outbox-Lane` header. @default every write in one lane */
  lane?: LaneHook;
  /**
   * Decides each conflict as it comes: a policy (`ask` leaves it to the page), or a
   * resolution (`{ body }`, `{ json }`, `{ keep }`). Undefined: the path's policy decides
   * (options `merge`, `keepTheirs`, `keepMine`). @default the paths' policies, else ask
   */
  resolve?: (conflict: ConflictDetails) => ConflictPolicy | Resolution | undefined | Promise<ConflictPolicy | Resolution | undefined>;
  /**
   * The credential headers for an attempt of a write that was made with some (option
   * `credentialHeaders`), when this worker does not hold them: after a restart, or after a
   * 401 or 403. Undefined: an open page is asked. @default ask the pages
   */
  credentials?: (write: { url: string; method: string; lane: string }) => Record<string, string> | undefined | Promise<Record<string, string> | undefined>;
}

/** Background Sync's SyncManager; not in TypeScript's lib because only Chromium has it. */
export interface SyncManagerLike {
  register(tag: string): Promise<void>;
}

/** What the outbox runs on: the worker's own by default (see createOutbox); tests pass theirs. */
export interface OutboxDeps {
  store: OutboxStore;
  publish: (counts: Counts, event: StatusEvent) => void;
  fetch: (request: Request) => Promise<Response>;
  now: () => number;
  random: () => number;
  /** Calls `callback` after `delayMs`; returns what cancels it. */
  timer: (callback: () => void, delayMs: number) => () => void;
  log: Logger;
  /** The worker's origin: writes elsewhere get lanes of their own. */
  origin: string;
  /** False when the device is surely offline (navigator.onLine). */
  online: () => boolean;
  sync?: SyncManagerLike | undefined;
  locks?: LockManager | undefined;
  /** Asks the open pages for a write's credential headers (see ask-pages.ts); null when none gives them. */
  askPages?: ((write: { url: string; method: string; lane: string; names: string[] }) => Promise<Record<string, string> | null>) | undefined;
  /** Fetches these reads into the worker's cache, those of them it keeps (option `reads`). */
  keepReads?: ((urls: string[]) => Promise<void>) | undefined;
  /** A write to this URL was delivered (2xx): the worker's cached reads it changed may be refreshed. */
  delivered?: ((url: string) => void) | undefined;
  /** The origin's storage use and persistence, for snapshots; none where the browser has no StorageManager. */
  storage?: (() => Promise<StorageState | null>) | undefined;
}
