/**
 * The drop-in worker, built to dist/outbox-sw.js: register it, or importScripts() it
 * from an existing worker. Options come from the script URL's query string.
 */
import { installOutbox } from './install.js';
import { parseOptionsQuery } from './options.js';
import { OutboxError } from './outbox-error.js';
import { CHANNEL_NAME, PROTOCOL_NAME, PROTOCOL_VERSION, type ConfigErrorMessage } from './protocol.js';

declare const self: ServiceWorkerGlobalScope;

try {
  installOutbox(parseOptionsQuery(self.location.search));
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
