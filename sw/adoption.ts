/**
 * Taking over writes another queue kept (a Workbox or Serwist queue's: see
 * workbox-migration.ts, decision 0016), so that a site moving to the outbox loses none.
 */
import type { AtRest } from './at-rest.js';
import type { Credentials } from './credentials.js';
import type { Draft } from './entry.js';
import type { OutboxStore } from './outbox-store.js';
import type { EntryMeta, StatusEvent } from './protocol.js';
import { takeCredentials } from './stored-request.js';
import { toMeta, type Committed } from './transitions.js';

export interface AdoptionContext {
  store: OutboxStore;
  credentials: Credentials;
  credentialHeaders: readonly string[];
  atRest: AtRest | undefined;
  dispatch: (committed: Committed, ...events: StatusEvent[]) => void;
}

/**
 * Each write goes at the tail of its lane in the order given, with `createdAt` its own
 * time (so maxAgeMs counts from then), and is sent by the next replay. A write whose key
 * is already in the outbox is skipped: a migration cut short can run again.
 */
export async function adopt(writes: { draft: Draft; createdAt: number }[], context: AdoptionContext): Promise<EntryMeta[]> {
  const { store, credentials, atRest } = context;
  const kept = new Map<string, Set<string>>();
  const adopted: EntryMeta[] = [];
  for (const { draft, createdAt } of writes) {
    if (!kept.has(draft.lane)) kept.set(draft.lane, await store.liveKeys(draft.lane));
    if (kept.get(draft.lane)!.has(draft.idempotencyKey)) continue;
    // The other queue kept credentials on disk; the outbox does not: held in memory while this worker lives.
    const secrets = takeCredentials(draft, [...context.credentialHeaders]);
    if (atRest) draft.sealed = await atRest.sealRequest(draft.request, draft.user);
    const added = await store.add(draft, createdAt, undefined);
    credentials.hold(added.transition.entry.id, secrets);
    context.dispatch(added);
    adopted.push(toMeta(added.transition.entry));
  }
  return adopted;
}
