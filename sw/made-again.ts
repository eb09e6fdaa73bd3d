/**
 * A fetch made again: Chromium hands a fetch whose worker stopped before answering it to
 * the next worker, and the write must not be kept twice (decision 0029).
 */
import { isSealed, type Draft, type QueuedEntry, type SendingEntry } from './entry.js';
import { laneRange, type Tx } from './store-changes.js';

/**
 * The write another worker was sending when it stopped, if `draft` is that same write
 * made again: the same page, lane, method, URL and body, at the head of its lane, sent by
 * another worker than `owner`. Read in the write's own transaction (OutboxStore.add), and
 * only when the store may hold one (OutboxStore.mayHoldSending).
 */
export async function madeAgain(tx: Tx, draft: Draft, owner: string): Promise<SendingEntry | undefined> {
  if (draft.madeBy === undefined) return undefined;
  const head = (await tx.objectStore('entries').index('queue').openCursor(laneRange(draft.lane)))?.value as QueuedEntry | undefined;
  if (head?.state !== 'sending' || head.owner === owner || head.madeBy !== draft.madeBy || head.method !== draft.method || head.url !== draft.url) return undefined;
  const kept = await tx.objectStore('requests').get(head.id);
  // A sealed body cannot be compared here: such a write is kept again, under another key.
  return kept && !isSealed(kept) && sameBytes(kept.body, draft.request.body) ? head : undefined;
}

function sameBytes(a: ArrayBuffer | null, b: ArrayBuffer | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.byteLength !== b.byteLength) return false;
  const [x, y] = [new Uint8Array(a), new Uint8Array(b)];
  return x.every((byte, i) => byte === y[i]);
}
