import type { Outbox } from './outbox.js';
import { OutboxError } from './outbox-error.js';
import { PROTOCOL_VERSION, SYNC_TAG } from './protocol.js';
import { DEFAULT_SNAPSHOT_LIMIT, isCommand, protocolMismatch, protocolVersionOf, type Command, type CommandAck, type CommandReply, type Commands, type CommandType } from './commands.js';

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

/** What each command does: typed by the command map, so that a reply carries what its command promises. */
type Handler<T extends CommandType> = (outbox: Outbox, command: Command<T>, page: string | undefined) => Promise<Commands[T]['reply']>;
/** A reply that carries nothing but `ok`, once `work` is done. */
const done = async (work: unknown): Promise<object> => {
  await work;
  return {};
};
const HANDLERS: { [T in CommandType]: Handler<T> } = {
  replay: (outbox, { force }) => done(outbox.replay(force ? 'page' : 'timer')),
  snapshot: async (outbox, { limit }) => ({ snapshot: await outbox.snapshot(limit ?? DEFAULT_SNAPSHOT_LIMIT) }),
  pending: async (outbox, { limit, bodies }, page) => ({ pending: await outbox.pending(limit, bodies, page) }),
  retry: async (outbox, { id }) => ({ entry: await outbox.retry(id) }),
  discard: (outbox, { id }) => done(outbox.discard(id)),
  cancel: (outbox, { id }) => done(outbox.cancel(id)),
  conflict: async (outbox, { id }) => ({ conflict: await outbox.conflict(id) }),
  resolve: async (outbox, { id, resolution }) => {
    const entry = await outbox.resolve(id, resolution);
    return entry ? { entry } : {};
  },
  'sign-in': (outbox, { user }) => done(outbox.signIn(user)),
  'sign-out': async (outbox, { pending, timeoutMs }) => ({ signedOut: await outbox.signOut(pending, timeoutMs) }),
  'credentials-changed': (outbox) => done(outbox.credentialsChanged()),
  'credentials-offered': (outbox) => done(outbox.credentialsOffered()),
  'keep-reads': (outbox, { urls }) => done(outbox.keepReads(urls)),
  claim: async (outbox) => {
    await self.clients.claim();
    // A page the worker did not see open (a hard reload): as for any page opening.
    outbox.pageOpened();
    return {};
  },
  whoami: async (_outbox, _command, page) => {
    if (page === undefined) throw new OutboxError('worker-error', 'sw-outbox: the message came from no window client.');
    return { page };
  },
};

/** Carries out a page's command; every failure comes back as a code and a message. */
export async function runCommand<T extends CommandType>(outbox: Outbox, command: Command<T>, page?: string): Promise<CommandReply<T>> {
  try {
    const handler: Handler<T> | undefined = HANDLERS[command.type as T];
    if (!handler) throw new OutboxError('worker-error', `sw-outbox: no command "${String(command.type)}" in this worker's protocol version.`);
    return { ok: true, ...(await handler(outbox, command, page)) };
  } catch (error) {
    const code = error instanceof OutboxError ? error.code : 'worker-error';
    return { ok: false, error: { code, message: error instanceof Error ? error.message : String(error) } };
  }
}
