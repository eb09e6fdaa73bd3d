import { createOutbox } from './create-outbox.js';
import { listenForOutbox } from './listen-for-outbox.js';
import { WRITE_METHODS, type OutboxOptionsInput } from './options.js';
import { resolveOptions } from './resolve-options.js';
import type { Outbox } from './outbox.js';
import { OutboxError } from './outbox-error.js';
import { HEADERS } from '../contract/http.js';
import { migrateQueue, QUEUE_DATABASES } from './workbox-migration.js';

declare const self: ServiceWorkerGlobalScope & { serviceWorker?: ServiceWorker };

/** OutboxPlugin's options: the outbox's own, and Workbox's BackgroundSyncPlugin options where they mean something here. */
export interface OutboxPluginOptions extends Omit<OutboxOptionsInput, 'include' | 'exclude' | 'methods' | 'origins'> {
  /** Workbox's: how long a write is kept, in **minutes** (sw-outbox's maxAgeMs, which wins if both are given). @default 7 days */
  maxRetentionTime?: number;
  /** Workbox's: do not use Background Sync; the outbox's own triggers (page open, online, timers) still replay. @default false */
  forceSyncFallback?: boolean;
  /** Refused: the outbox replays each write itself, in order and with its key. */
  onSync?: never;
  /**
   * Whose queue of this name to move into the outbox when this worker takes over:
   * Workbox's background sync, Serwist's, or none. @default 'workbox'
   */
  migrateFrom?: keyof typeof QUEUE_DATABASES | false;
}

/**
 * The parts of Workbox's plugin callback parameters the plugin reads, typed without
 * workbox-core or the WebWorker lib, so that apps type-check it under the DOM lib too.
 */
interface HandlerParam {
  request: Request;
  /** The FetchEvent. */
  event: { waitUntil(promise: Promise<unknown>): void; clientId?: string };
  state?: Record<string, unknown>;
}

// Every OutboxPlugin of a worker shares one outbox (one store, one order), made by the first.
let shared: { outbox: Outbox; options: string } | undefined;
const SKIP_NETWORK = 'sw-outbox: the outbox sends this write';
const NAME = /^[\x21-\x7e]{1,100}$/;
/** installOutbox's routing options: a plugin's route does their work. */
const ROUTING = ['include', 'exclude', 'methods', 'origins'] as const;

/**
 * A drop-in for Workbox's BackgroundSyncPlugin, for the app's own write routes:
 *
 *     registerRoute(/\/api\//, new NetworkOnly({ plugins: [new OutboxPlugin('api')] }), 'POST');
 *
 * The route's writes go through the outbox rather than straight to the network: kept in
 * IndexedDB before they are sent, stamped with an Idempotency-Key, sent in order within
 * the lane named after the queue, retried, and reported to pages. The page gets the
 * server's answer when it comes in time, else the outbox's 202 (or a network error, with
 * `whenQueued: 'reject'`, as Workbox gives). Writes still waiting in Workbox's queue of
 * this name are moved into the lane when this worker activates.
 */
export class OutboxPlugin {
  readonly #outbox: Outbox;
  readonly #lane: string;
  /** Moves the old queue in (once): what a new write waits for, to be kept after those. */
  readonly #migrate: () => Promise<unknown>;
  #migrated: Promise<unknown> | undefined;

  constructor(name: string, { maxRetentionTime, forceSyncFallback = false, onSync, migrateFrom = 'workbox', ...input }: OutboxPluginOptions = {}) {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new OutboxError('invalid-option', `sw-outbox OutboxPlugin: the queue name ${JSON.stringify(name)} names the writes' lane, so it must be 1 to 100 visible ASCII characters without spaces, such as "api-writes".`);
    }
    if (onSync !== undefined) {
      throw new OutboxError('unknown-option', 'sw-outbox OutboxPlugin: onSync has no meaning here: the outbox replays each write itself, in order and with its Idempotency-Key. To act on what a replay answered, subscribe to the status in the page (OutboxClient.subscribe); remove onSync.');
    }
    const routing = ROUTING.filter((option) => option in input);
    if (routing.length > 0) {
      throw new OutboxError('unknown-option', `sw-outbox OutboxPlugin: ${routing.join(', ')} ${routing.length === 1 ? 'has' : 'have'} no meaning here: the Workbox route the plugin is on decides which requests it gets. Remove ${routing.length === 1 ? 'it' : 'them'}, and match the writes in registerRoute.`);
    }
    if (maxRetentionTime !== undefined && (!Number.isFinite(maxRetentionTime) || maxRetentionTime <= 0)) {
      throw new OutboxError('invalid-option', `sw-outbox OutboxPlugin: maxRetentionTime is in minutes, as in Workbox, and must be a positive number; got ${String(maxRetentionTime)}.`);
    }
    if (migrateFrom !== false && !(migrateFrom in QUEUE_DATABASES)) {
      throw new OutboxError('invalid-option', `sw-outbox OutboxPlugin: migrateFrom must be "workbox", "serwist" or false; got ${JSON.stringify(migrateFrom)}.`);
    }
    const options = resolveOptions({ ...(maxRetentionTime === undefined ? {} : { maxAgeMs: Math.round(maxRetentionTime * 60_000) }), ...input });
    const key = JSON.stringify({ options, forceSyncFallback });
    if (shared && shared.options !== key) {
      throw new OutboxError('invalid-option', 'sw-outbox OutboxPlugin: the plugins of one worker share one outbox, so they must be given the same options (maxRetentionTime, forceSyncFallback and the outbox options); give every OutboxPlugin the same ones.');
    }
    if (!shared) {
      const outbox = createOutbox(options, {}, forceSyncFallback ? { sync: undefined } : {});
      listenForOutbox(outbox);
      shared = { outbox, options: key };
    }
    this.#outbox = shared.outbox;
    this.#lane = name;

    const database = migrateFrom === false ? undefined : QUEUE_DATABASES[migrateFrom];
    // The old worker may replay its queue until this one activates: move it only then, or
    // at any later start of this worker (one stopped mid-migration finishes it).
    this.#migrate = () =>
      (this.#migrated ??= (database ? migrateQueue(this.#outbox, name, database) : Promise.resolve(0)).catch((error: unknown) =>
        console.error(`[sw-outbox] could not move the writes of the queue "${name}" from ${database}:`, error),
      ));
    const takeOver = () => this.#migrate().then(() => this.#outbox.replay('start'));
    self.addEventListener('activate', (event) => event.waitUntil(takeOver()));
    if (self.serviceWorker?.state === 'activated') void takeOver();
  }

  /** Hands the write to the outbox before the strategy runs: its answer is the route's. */
  handlerWillStart = async ({ request, event, state }: HandlerParam): Promise<void> => {
    if (!state || !(WRITE_METHODS as readonly string[]).includes(request.method)) return;
    // A write made now is kept after the ones moved in from the old queue.
    await this.#migrate();
    const write = new Request(request.clone(), { headers: withLane(request.headers, this.#lane) });
    state.outboxAnswer = this.#outbox.handle(write, (promise) => event.waitUntil(promise), event.clientId || undefined);
  };

  /** Keeps the strategy's own fetch from sending a write the outbox sends. */
  requestWillFetch = async ({ request, state }: HandlerParam): Promise<Request> => {
    if (state?.outboxAnswer) throw new Error(SKIP_NETWORK);
    return request;
  };

  /** The outbox's answer, where the strategy failed for want of its own fetch. */
  handlerDidError = async ({ state }: HandlerParam): Promise<Response | undefined> => {
    return state?.outboxAnswer as Promise<Response> | undefined;
  };
}

function withLane(headers: Headers, lane: string): Headers {
  const copy = new Headers(headers);
  if (!copy.has(HEADERS.lane)) copy.set(HEADERS.lane, lane);
  return copy;
}
