import { Route, Router } from 'workbox-routing';
import { createLogger } from './logger.js';
import { resolveOptions, type OutboxOptionsInput } from './options.js';
import { Outbox, type SyncManagerLike } from './outbox.js';
import { OutboxError } from './outbox-error.js';
import { OutboxStore } from './outbox-store.js';
import { isCommand, QUEUED_HEADER, SYNC_TAG, type Command, type CommandReply, type QueuedBody } from './protocol.js';
import { createRouteMatcher } from './route-matcher.js';
import { StatusChannel } from './status-channel.js';

declare const self: ServiceWorkerGlobalScope;

/** Background Sync's event; not in TypeScript's lib because only Chromium has it. */
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}

/**
 * Puts the outbox in front of the app's writes: attaches the worker's fetch, sync,
 * message, install and activate listeners. Call it once, during the worker script's
 * first evaluation (browsers accept listeners only then). Throws {@link OutboxError}
 * for invalid options.
 */
export function installOutbox(input: OutboxOptionsInput = {}): Outbox {
  const options = resolveOptions(input);
  const log = createLogger(options.debug);
  // Firefox and Safari have no registration.sync; Android WebView has one that never fires.
  const sync = (self.registration as { sync?: SyncManagerLike }).sync;
  const outbox = new Outbox(options, new OutboxStore(), new StatusChannel(), log, sync);

  const router = new Router();
  const match = createRouteMatcher(options);
  for (const method of options.methods) {
    router.registerRoute(
      new Route(
        match,
        async ({ request, event }) => {
          const result = await outbox.write(request, (promise) => (event as FetchEvent).waitUntil(promise));
          if (result.kind === 'answered') return result.response;
          if (options.whenQueued === 'reject') return Response.error();
          return queuedAnswer({ queued: true, id: result.entry.seq, idempotencyKey: result.entry.idempotencyKey });
        },
        method,
      ),
    );
  }

  self.addEventListener('fetch', (event) => {
    const response = router.handleRequest({ event, request: event.request });
    if (response) event.respondWith(response);
  });
  self.addEventListener('sync', (event) => {
    const sync = event as SyncEvent;
    if (sync.tag === SYNC_TAG) sync.waitUntil(outbox.sync());
  });
  self.addEventListener('message', (event) => {
    if (!isCommand(event.data)) return; // the host app's own messages
    const port = event.ports[0];
    event.waitUntil(runCommand(outbox, event.data).then((reply) => port?.postMessage(reply)));
  });
  // The outbox must see the app's writes from the first page load, so it takes over at once.
  self.addEventListener('install', () => void self.skipWaiting());
  self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

  log('installed with', options);
  // Writes left from an earlier life of the worker go out as soon as it starts.
  void outbox.replay('start');
  return outbox;
}

function queuedAnswer(body: QueuedBody): Response {
  return new Response(JSON.stringify(body), {
    status: 202,
    statusText: 'Accepted',
    headers: { 'Content-Type': 'application/json', [QUEUED_HEADER]: '?1' },
  });
}

async function runCommand(outbox: Outbox, command: Command): Promise<CommandReply> {
  try {
    switch (command.type) {
      case 'replay':
        await outbox.replay(command.force ? 'page' : 'timer');
        return { ok: true };
      case 'snapshot':
        return { ok: true, snapshot: await outbox.snapshot() };
      case 'retry':
        await outbox.retry(command.id);
        return { ok: true };
      case 'discard':
        await outbox.discard(command.id);
        return { ok: true };
    }
  } catch (error) {
    const code = error instanceof OutboxError ? error.code : 'worker-error';
    return { ok: false, error: { code, message: error instanceof Error ? error.message : String(error) } };
  }
}
