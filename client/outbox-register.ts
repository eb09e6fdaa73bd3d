import { PROTOCOL_NAME, PROTOCOL_VERSION } from '../sw/protocol.js';
import { type Command } from '../sw/commands.js';

/**
 * The one line for a page, as a classic script: `<script src="/outbox-register.js"></script>`.
 * It registers the drop-in worker beside it (`outbox-sw.js`, or `data-worker`), passing its
 * own query string on as the worker's options. A page loaded with a hard reload has no
 * controller although the worker is active, and its writes would bypass the outbox: the
 * worker is asked to claim it, as the page helper does.
 */
const script = document.currentScript as HTMLScriptElement | null;
const own = new URL(script?.src ?? '/outbox-register.js', location.href);
const worker = new URL(script?.dataset.worker ?? 'outbox-sw.js', own);
worker.search = own.search;

if ('serviceWorker' in navigator) {
  navigator.serviceWorker
    .register(worker.href)
    .then(async () => {
      if (navigator.serviceWorker.controller) return;
      const { active } = await navigator.serviceWorker.ready;
      const claim: Command = { protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, type: 'claim' };
      active?.postMessage(claim);
    })
    .catch((error: unknown) => console.error('sw-outbox: could not register the outbox worker', worker.pathname, error));
}
