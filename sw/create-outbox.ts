import { createLogger } from './logger.js';
import { type OutboxOptionsInput } from './options.js';
import { resolveOptions } from './resolve-options.js';
import { Outbox } from './outbox.js';
import type { OutboxDeps, OutboxHooks, SyncManagerLike } from './outbox-deps.js';
import { OutboxStore } from './outbox-store.js';
import { StatusChannel } from './status-channel.js';
import { askPages } from './ask-pages.js';
import type { StorageState } from './commands.js';

declare const self: ServiceWorkerGlobalScope;

/** What the browser says of the origin's storage; workers have estimate() and persisted(), not persist(). */
async function storageState(): Promise<StorageState | null> {
  const storage = (self.navigator as { storage?: StorageManager }).storage;
  if (!storage?.estimate) return null;
  const [{ usage = 0, quota = 0 }, persisted] = await Promise.all([storage.estimate(), storage.persisted?.() ?? false]);
  return { usage, quota, persisted };
}

/**
 * Builds an outbox on the worker's own IndexedDB, fetch, BroadcastChannel, Background
 * Sync and Web Locks, without attaching any listener: for a worker that routes requests
 * itself (call `outbox.handle` from its fetch handler). Function-valued settings go in
 * `hooks`. Throws {@link OutboxError} for invalid options.
 */
export function createOutbox(input: OutboxOptionsInput = {}, hooks: OutboxHooks = {}, deps: Partial<OutboxDeps> = {}): Outbox {
  const options = resolveOptions(input);
  if (hooks.lane !== undefined && typeof hooks.lane !== 'function') {
    throw new TypeError('sw-outbox: hooks.lane must be a function (request) => lane name or undefined.');
  }
  if (hooks.credentials !== undefined && typeof hooks.credentials !== 'function') {
    throw new TypeError('sw-outbox: hooks.credentials must be a function ({ url, method, lane }) => headers or undefined.');
  }
  if (hooks.resolve !== undefined && typeof hooks.resolve !== 'function') {
    throw new TypeError("sw-outbox: hooks.resolve must be a function (conflict) => 'ask' | 'merge' | 'theirs' | 'mine' | a resolution | undefined.");
  }
  const channel = new StatusChannel();
  const timer = (callback: () => void, delayMs: number) => {
    const handle = setTimeout(callback, delayMs);
    return () => clearTimeout(handle);
  };
  return new Outbox(options, hooks, {
    store: new OutboxStore(self.location.origin),
    publish: (counts, event) => channel.publish(counts, event),
    fetch: (request) => fetch(request),
    now: Date.now,
    random: Math.random,
    timer,
    log: createLogger(options.debug),
    origin: self.location.origin,
    online: () => self.navigator.onLine !== false,
    // Firefox and Safari have no registration.sync; Android WebView has one that never fires.
    sync: (self.registration as { sync?: SyncManagerLike }).sync,
    locks: (self.navigator as { locks?: LockManager }).locks,
    storage: storageState,
    askPages: (write) => askPages(write, timer),
    ...deps,
  });
}
