import { toOptionsQuery, type OutboxOptionsInput } from '../sw/options.js';
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
}

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

  // Listen first: a worker that rejects its options says why on the channel, then fails.
  const client = new OutboxClient();
  try {
    const registration = await navigator.serviceWorker.register(url.href, register.scope ? { scope: register.scope } : undefined);
    await installed(registration, client, url.href);
    await controlled();
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

function controlled(): Promise<void> {
  if (navigator.serviceWorker.controller) return Promise.resolve();
  return new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
}
