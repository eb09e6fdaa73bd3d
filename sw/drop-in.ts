/**
 * The drop-in worker's body, shared by its two builds (outbox-sw.ts, everything;
 * outbox-sw-core.ts, features loaded as options ask): options come from the worker URL's
 * query string, plain (`?include=/api/`) or, beside a host worker's own parameters,
 * prefixed (`/sw.js?v=2&outbox.include=/api/`).
 */
import { installOutbox } from './install.js';
import type { OutboxOptions } from './options.js';
import { hostQueryParameters, parseOptionsQuery, QUERY_PREFIX } from './options-query.js';
import { OutboxError } from './outbox-error.js';
import { CHANNEL_NAME, PROTOCOL_NAME, PROTOCOL_VERSION, type ConfigErrorMessage } from './protocol.js';
import { resolveOptions } from './resolve-options.js';

declare const self: ServiceWorkerGlobalScope;

/** Installs the outbox with the options of the worker's URL; `load` first loads the features they use. */
export function dropIn(load: (options: OutboxOptions) => void = () => {}): void {
  try {
    const { search } = self.location;
    const input = parseOptionsQuery(search);
    load(resolveOptions(input));
    installOutbox(input);
    const host = hostQueryParameters(search);
    if (host.length > 0 && !search.includes(QUERY_PREFIX)) {
      // Not an error: they may be the host worker's own. But they may be a typo of ours.
      console.warn(`[sw-outbox] left the query parameters ${host.join(', ')} to the worker: they are no outbox options. Name outbox options ${QUERY_PREFIX}<option> to have such names checked.`);
    }
  } catch (error) {
    if (!(error instanceof OutboxError)) throw error;
    // Fail the install, not the script: a worker already running with good options stays
    // in charge, and the pages are told why on the status channel.
    console.error(`[sw-outbox] ${error.message}`);
    self.addEventListener('install', (event) => {
      const message: ConfigErrorMessage = {
        protocol: PROTOCOL_NAME,
        version: PROTOCOL_VERSION,
        at: Date.now(),
        type: 'config-error',
        error: { code: error.code, message: error.message },
      };
      new BroadcastChannel(CHANNEL_NAME).postMessage(message);
      event.waitUntil(Promise.reject(error));
    });
  }
}
