import type { Outbox } from './outbox.js';
import { OutboxError } from './outbox-error.js';
import { DEFAULT_SNAPSHOT_LIMIT, isCommand, PROTOCOL_VERSION, protocolMismatch, protocolVersionOf, SYNC_TAG, type Command, type CommandAck, type CommandReply } from './protocol.js';

declare const self: ServiceWorkerGlobalScope;

/** Background Sync's event; not in TypeScript's lib because only Chromium has it. */
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}

/**
 * The listeners an outbox needs whoever routes its writes (installOutbox, OutboxPlugin):
 * Background Sync's event, and the pages' commands. Call it during the worker script's
 * first evaluation, as browsers accept listeners only then.
 */
export function listenForOutbox(outbox: Outbox): void {
  self.addEventListener('sync', (event) => {
    const sync = event as SyncEvent;
    if (sync.tag === SYNC_TAG) sync.waitUntil(outbox.sync());
  });
  self.addEventListener('message', (event) => {
    const version = protocolVersionOf(event.data);
    if (version === undefined) return; // the host app's own messages
    const port = event.ports[0];
    if (!isCommand(event.data)) {
      port?.postMessage(protocolMismatch(version, PROTOCOL_VERSION));
      return;
    }
    const ack: CommandAck = { ack: true };
    port?.postMessage(ack);
    const page = event.source && 'id' in event.source ? event.source.id : undefined;
    event.waitUntil(runCommand(outbox, event.data, page).then((reply) => port?.postMessage(reply)));
  });
}

/** Carries out a page's command; every failure comes back as a code and a message. */
export async function runCommand(outbox: Outbox, command: Command, page?: string): Promise<CommandReply> {
  try {
    switch (command.type) {
      case 'replay':
        await outbox.replay(command.force ? 'page' : 'timer');
        return { ok: true };
      case 'snapshot':
        return { ok: true, snapshot: await outbox.snapshot(command.limit ?? DEFAULT_SNAPSHOT_LIMIT) };
      case 'pending':
        return { ok: true, pending: await outbox.pending(command.limit, command.bodies, page) };
      case 'retry':
        return { ok: true, entry: await outbox.retry(command.id) };
      case 'discard':
        await outbox.discard(command.id);
        return { ok: true };
      case 'cancel':
        await outbox.cancel(command.id);
        return { ok: true };
      case 'conflict':
        return { ok: true, conflict: await outbox.conflict(command.id) };
      case 'resolve': {
        const entry = await outbox.resolve(command.id, command.resolution);
        return entry ? { ok: true, entry } : { ok: true };
      }
      case 'sign-in':
        await outbox.signIn(command.user);
        return { ok: true };
      case 'sign-out':
        return { ok: true, signedOut: await outbox.signOut(command.pending, command.timeoutMs) };
      case 'credentials-changed':
        await outbox.credentialsChanged();
        return { ok: true };
      case 'credentials-offered':
        outbox.credentialsOffered();
        return { ok: true };
      case 'keep-reads':
        await outbox.keepReads(command.urls);
        return { ok: true };
      case 'claim':
        await self.clients.claim();
        // A page the worker did not see open (a hard reload): as for any page opening.
        outbox.pageOpened();
        return { ok: true };
      case 'whoami':
        return page === undefined ? { ok: false, error: { code: 'worker-error', message: 'sw-outbox: the message came from no window client.' } } : { ok: true, page };
    }
  } catch (error) {
    const code = error instanceof OutboxError ? error.code : 'worker-error';
    return { ok: false, error: { code, message: error instanceof Error ? error.message : String(error) } };
  }
}
