import type { OutboxError } from '../sw/outbox-error.js';
import { type Counts, type EntryMeta } from '../sw/protocol.js';
import { DEFAULT_SNAPSHOT_LIMIT } from '../sw/commands.js';
import type { OutboxClient } from './outbox-client.js';

/** What a view of the outbox shows; a new object whenever anything in it changed. */
export interface OutboxState {
  /** False until the worker first answered (or failed to: see `error`). */
  ready: boolean;
  counts: Counts;
  /** The first `limit` waiting writes, in the order they will be sent. */
  pending: EntryMeta[];
  /** The first `limit` writes that need the app's decision (retry or discard). */
  deadLetters: EntryMeta[];
  /** The first `limit` conflicts (409, 412, 428), each holding its lane until resolved. */
  conflicts: EntryMeta[];
  /**
   * The real identities of creates that were given provisional ones, by provisional id,
   * as they became known while this view watched (decision 0022): what an app that keeps
   * its own records may update them with.
   */
  identities: Readonly<Record<string, { id: string | number; url: string }>>;
  /** Why the outbox could not be read (no worker in control, one of another release), if it could not. */
  error: OutboxError | null;
}

/** A store of {@link OutboxState} in the shape React's useSyncExternalStore, and most frameworks' stores, take. */
export interface OutboxWatch {
  /** Calls `onChange` whenever the state changes; returns the function that stops it. */
  subscribe(onChange: () => void): () => void;
  /** The current state: the same object until it changes. */
  getSnapshot(): OutboxState;
}

/** The state before the worker first answered: nothing known yet. */
export const OUTBOX_NOT_READY: Readonly<OutboxState> = Object.freeze({ ready: false, counts: { pending: 0, deadLetters: 0, conflicts: 0 }, pending: [], deadLetters: [], conflicts: [], identities: {}, error: null });

/**
 * Keeps an {@link OutboxState} up to date while anyone subscribes: the counts from each
 * status message at once, the lists from a snapshot that follows it (one at a time,
 * and one more if messages came meanwhile).
 */
export function watchOutbox(client: OutboxClient, { limit = DEFAULT_SNAPSHOT_LIMIT }: { limit?: number } = {}): OutboxWatch {
  let state: OutboxState = OUTBOX_NOT_READY;
  const listeners = new Set<() => void>();
  let unsubscribe: (() => void) | undefined;
  let reading = false;
  let stale = false;

  const publish = (next: OutboxState) => {
    state = next;
    for (const listener of listeners) listener();
  };
  const read = async () => {
    if (reading) {
      stale = true;
      return;
    }
    reading = true;
    do {
      stale = false;
      try {
        const snapshot = await client.snapshot({ limit });
        publish({ ...state, ready: true, counts: snapshot.counts, pending: snapshot.entries, deadLetters: snapshot.deadLetters, conflicts: snapshot.conflicts, error: null });
      } catch (error) {
        publish({ ...state, ready: true, error: error as OutboxError });
      }
    } while (stale && listeners.size > 0);
    reading = false;
  };

  return {
    subscribe(onChange) {
      listeners.add(onChange);
      if (listeners.size === 1) {
        unsubscribe = client.subscribe((message) => {
          const { counts } = message;
          if (message.type === 'identified') publish({ ...state, identities: { ...state.identities, [message.provisional.id]: message.real } });
          if (counts.pending !== state.counts.pending || counts.deadLetters !== state.counts.deadLetters || counts.conflicts !== state.counts.conflicts) publish({ ...state, counts });
          void read();
        });
        void read();
      }
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0) unsubscribe?.();
      };
    },
    getSnapshot: () => state,
  };
}
