import { useMemo, useSyncExternalStore } from 'react';
// From the entry, not its parts: the build keeps this import, so that an app that uses
// sw-outbox/client and sw-outbox/react loads one page helper, not two.
import { OUTBOX_NOT_READY, OutboxClient, watchOutbox, type OutboxState, type OutboxWatch, type Resolution } from './index.js';

/** What {@link useOutbox} gives a component: the state, and the actions on it. */
export interface UseOutbox extends OutboxState {
  /** Sends a dead letter again (a new place at the tail of its lane, the same key). */
  retry(id: number): Promise<unknown>;
  /** Deletes a dead letter: the app's say-so that the write is given up. */
  discard(id: number): Promise<void>;
  /** Stops a waiting write from being sent; it becomes a dead letter to retry or discard. */
  cancel(id: number): Promise<void>;
  /** Settles a conflict: keep mine, keep theirs, or send a merged body (see OutboxClient.resolve). */
  resolve(id: number, resolution: Resolution): Promise<unknown>;
  /** Sends what waits, now. */
  replay(): Promise<void>;
}

let pageClient: OutboxClient | undefined;
const watches = new WeakMap<OutboxClient, OutboxWatch>();
/** On a server render there is no outbox: the state stays "not ready". */
const NO_OUTBOX: OutboxWatch = { subscribe: () => () => {}, getSnapshot: () => OUTBOX_NOT_READY };

/**
 * The outbox as React state: counts, waiting writes, dead letters and conflicts, kept
 * current from the worker's status messages, with the actions. Components that call it
 * share one OutboxClient (the one given, or one made for the page) and one subscription.
 *
 *     const { counts, deadLetters, retry } = useOutbox();
 */
export function useOutbox(client?: OutboxClient): UseOutbox {
  const [used, watch] = useMemo(() => watchOf(client), [client]);
  const state = useSyncExternalStore(watch.subscribe, watch.getSnapshot, NO_OUTBOX.getSnapshot);
  return useMemo(
    () => ({
      ...state,
      retry: (id: number) => outbox(used).retry(id),
      discard: (id: number) => outbox(used).discard(id),
      cancel: (id: number) => outbox(used).cancel(id),
      resolve: (id: number, resolution: Resolution) => outbox(used).resolve(id, resolution),
      replay: () => outbox(used).replay(),
    }),
    [state, used],
  );
}

function watchOf(client: OutboxClient | undefined): [OutboxClient | undefined, OutboxWatch] {
  const used = client ?? (typeof document === 'undefined' ? undefined : (pageClient ??= new OutboxClient()));
  if (!used) return [undefined, NO_OUTBOX];
  let watch = watches.get(used);
  if (!watch) watches.set(used, (watch = watchOutbox(used)));
  return [used, watch];
}

function outbox(client: OutboxClient | undefined): OutboxClient {
  if (!client) throw new Error('sw-outbox useOutbox(): the outbox is in the browser; call its actions from event handlers or effects, not while rendering on the server.');
  return client;
}
