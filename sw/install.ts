import { createOutbox } from './create-outbox.js';
import { type OutboxOptionsInput } from './options.js';
import { resolveOptions } from './resolve-options.js';
import type { Outbox } from './outbox.js';
import type { OutboxHooks } from './outbox-deps.js';
import { feature, featuresFor } from './features.js';
import { createRouteMatcher, toPathTest } from './route-matcher.js';
import { listenForOutbox } from './listen-for-outbox.js';

declare const self: ServiceWorkerGlobalScope;

/**
 * Puts the outbox in front of the app's writes: builds it with {@link createOutbox} and
 * attaches the worker's fetch, sync, message, install and activate listeners. Call it
 * once, during the worker script's first evaluation (browsers accept listeners only
 * then), before the app's own fetch listener. Throws {@link OutboxError} for invalid options.
 */
export function installOutbox(input: OutboxOptionsInput = {}, hooks: OutboxHooks = {}): Outbox {
  const options = resolveOptions(input);
  const used = featuresFor(options);
  const reads = used.includes('reads') ? feature('reads').createOfflineReads(options.reads) : undefined;
  const provisionalIdsIn = used.includes('collections') ? feature('collections').provisionalIdsIn : undefined;
  // A delivered write refreshes the cached reads it changed, so that they show it offline later.
  const outbox = createOutbox(options, hooks, reads ? { delivered: (url) => void reads.refreshAfterWrite(url), keepReads: (urls) => reads.keep(urls) } : {});
  const methods = new Set<string>(options.methods);
  const match = createRouteMatcher(options);
  const mergePaths = options.conflicts.merge.map(toPathTest);
  const merging = (url: URL) => url.origin === self.location.origin && mergePaths.some((test) => test(url.pathname));

  self.addEventListener('fetch', (event) => {
    const { request } = event;
    // A page opening: the person may have signed in again since writes met the sign-in page.
    if (request.mode === 'navigate' && request.method === 'GET') outbox.pageOpened();
    if (request.method === 'GET') {
      // A read of a record the outbox gave a provisional identity: the real URL, or what the outbox knows.
      if (provisionalIdsIn && provisionalIdsIn(request.url).length > 0) {
        event.respondWith(outbox.readProvisional(request).then((response) => response ?? fetch(request)));
        return;
      }
      // Reads are the app's own business unless shell, reads or merge name them: no URL parsed then.
      if (!reads && mergePaths.length === 0) return;
      const url = new URL(request.url);
      const strategy = reads?.route(request, url);
      // On a `merge` path the answer is also kept as a version to merge from, off its way.
      const keep = merging(url) ? (response: Response) => (event.waitUntil(outbox.keepRepresentation(request.url, response)), response) : undefined;
      // A read shows the user's own waiting writes, as the server will once they arrive (kept before: the server's version).
      const read = strategy && (keep ? strategy.handle({ event, request }).then(keep) : strategy.handle({ event, request }));
      if (read) event.respondWith(read.then((response) => outbox.withWaitingWrites(request, response)));
      else if (keep) event.respondWith(fetch(request).then(keep));
      return;
    }
    if (!methods.has(request.method)) return;
    const url = new URL(request.url);
    if (!match({ url, sameOrigin: url.origin === self.location.origin, request })) return;
    event.respondWith(outbox.handle(request, (promise) => event.waitUntil(promise), event.clientId || undefined));
  });
  listenForOutbox(outbox);
  // The outbox must see the app's writes from the first page load, so it takes over at once.
  self.addEventListener('install', (event) => {
    void self.skipWaiting();
    if (reads) event.waitUntil(reads.cacheShell());
  });
  // Once in control, the reads the page made before (a first visit) are fetched into the cache, off the activation's path.
  self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim().then(() => void reads?.warm())));

  // Writes left from an earlier life of the worker go out as soon as it starts.
  void outbox.replay('start');
  return outbox;
}
