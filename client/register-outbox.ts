import type { OutboxOptionsInput } from '../sw/options.js';
import { toOptionsQuery } from '../sw/options-query.js';
import { OutboxError } from '../sw/outbox-error.js';
import { OutboxClient } from './outbox-client.js';

export const DEFAULT_SCRIPT_URL = '/outbox-sw.js';

export interface RegisterOptions {
  /** Where the drop-in worker is served. @default '/outbox-sw.js' */
  scriptUrl?: string;
  /** The registration's scope. @default the browser's: the script's folder */
  scope?: string;
  /** The worker's options, passed in the script URL's query string. @default {} */
  options?: OutboxOptionsInput;
  /**
   * How long to wait for the worker to take control of the page, and for it to acknowledge
   * each call of the client this resolves with. @default 5_000 (ms)
   */
  timeoutMs?: number;
  /**
   * Asks the browser for persistent storage once the worker is in control (see
   * OutboxClient.persist; Firefox asks the person). Snapshots say whether it was granted
   * (`storage.persisted`). @default true
   */
  persist?: boolean;
}

const DEFAULT_REGISTER_TIMEOUT_MS = 5_000;

/**
 * Registers the outbox worker and resolves once it controls this page, so that the
 * page's next write goes through it. Invalid options throw here, before anything is
 * registered, with an {@link OutboxError} naming the option.
 */
export async function registerOutbox(register: RegisterOptions = {}): Promise<OutboxClient> {
  if (!('serviceWorker' in navigator)) {
    throw new OutboxError('no-worker', 'sw-outbox needs service workers: serve the page over https (or from localhost) in a browser that has them.');
  }
  const url = new URL(register.scriptUrl ?? DEFAULT_SCRIPT_URL, location.href);
  const query = new URLSearchParams(toOptionsQuery(register.options ?? {}));
  for (const [name, value] of query) url.searchParams.append(name, value);
  // A worker controls only the pages under its scope; by default, the script's folder.
  const scope = new URL(register.scope ?? './', url);
  scope.search = '';
  if (!location.href.startsWith(scope.href)) {
    throw new OutboxError(
      'out-of-scope',
      `sw-outbox: the worker ${url.pathname} would control pages under ${scope.pathname}, and this page (${location.pathname}) is not one of them, so its writes would not go through the outbox. Serve the worker from the site's root (/outbox-sw.js), or register it with scope: '/' and have the server send the worker script with the header Service-Worker-Allowed: /.`,
    );
  }

  // Listen first: a worker that rejects its options says why on the channel, then fails.
  const client = new OutboxClient({ ackTimeoutMs: register.timeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS });
  try {
    const registration = await navigator.serviceWorker.register(url.href, register.scope ? { scope: register.scope } : undefined);
    await installed(registration, client, url.href);
    await controlled(client, register.timeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS);
    // Not awaited: where the browser asks the person, the page does not wait for them.
    if (register.persist !== false) void client.persist();
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Waits for a new worker to activate, or fails with its reason if it cannot install. */
async function installed(registration: ServiceWorkerRegistration, client: OutboxClient, url: string): Promise<void> {
  const worker = registration.installing ?? registration.waiting;
  if (!worker) return;
  let stop = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (worker.state === 'activated') resolve();
        if (worker.state === 'redundant') reject(new OutboxError('worker-error', `sw-outbox: the worker ${url} failed to install; its console in DevTools says why.`));
      };
      const stopConfigErrors = client.onConfigError(reject);
      worker.addEventListener('statechange', check);
      stop = () => {
        stopConfigErrors();
        worker.removeEventListener('statechange', check);
      };
      check();
    });
  } finally {
    stop();
  }
}

/**
 * Resolves once the worker controls this page. A page loaded with a hard reload (Shift+Reload,
 * "Empty cache and hard reload") has no controller although the worker is active: the
 * worker is asked to claim it. A page still without one is unprotected, and said to be.
 */
async function controlled(client: OutboxClient, timeoutMs: number): Promise<void> {
  if (navigator.serviceWorker.controller) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const change = new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OutboxError('not-controlled', `sw-outbox: the outbox worker did not take control of this page within ${timeoutMs} ms, so the page's writes are not protected. Reload the page normally (not with a hard reload).`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([Promise.all([change, client.claim()]), late]);
  } finally {
    clearTimeout(timer);
  }
}
