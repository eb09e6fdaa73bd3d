import { openDB, type IDBPDatabase } from 'idb';
import type { Draft } from './entry.js';
import { laneFor } from './lanes.js';
import type { Outbox } from './outbox.js';
import { HEADERS } from '../contract/http.js';

/** The databases that Workbox's and Serwist's background sync keep their queues in (same layout). */
export const QUEUE_DATABASES = { workbox: 'workbox-background-sync', serwist: 'serwist-background-sync' } as const;

/** A request as Workbox (7) and Serwist (9) keep it: StorableRequest's requestData. */
interface QueuedRequest {
  id: number;
  queueName: string;
  /** When it was queued (ms since epoch). */
  timestamp: number;
  requestData: {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: ArrayBuffer;
    mode?: RequestMode;
    credentials?: RequestCredentials;
    redirect?: RequestRedirect;
    referrer?: string;
  };
}

const KEY_HEADER = HEADERS.idempotencyKey.toLowerCase();

/**
 * Moves the writes of the background-sync queue `queueName` into the outbox's lane of
 * the same name, in their order, and deletes each from the old store only once all are
 * kept. A write moved keeps its own Idempotency-Key if the app gave it one, else gets
 * one made of this outbox's id and the record's, the same at every try: a migration cut
 * short between keeping and deleting moves nothing twice when it runs again.
 * Resolves with how many writes it moved.
 */
export async function migrateQueue(outbox: Outbox, queueName: string, database: string = QUEUE_DATABASES.workbox): Promise<number> {
  const db = await openIfThere(database);
  if (!db) return 0;
  try {
    if (!db.objectStoreNames.contains('requests')) return 0;
    // The queueName index orders a queue by id, which is its order (unshift takes a lower one).
    const queued = (await db.getAllFromIndex('requests', 'queueName', IDBKeyRange.only(queueName))) as QueuedRequest[];
    if (queued.length === 0) return 0;
    const clientId = (await outbox.clientId()).replace(/"/g, '');
    const adopted = await outbox.adopt(queued.map((record) => ({ draft: toDraft(record, `"${clientId}.${database}.${record.id}.${record.timestamp}"`), createdAt: record.timestamp })));
    const tx = db.transaction('requests', 'readwrite');
    await Promise.all([...queued.map((record) => tx.store.delete(record.id)), tx.done]);
    return adopted.length;
  } finally {
    db.close();
  }
}

/** The database if it exists; opening one that does not would create it, so that is undone. */
async function openIfThere(name: string): Promise<IDBPDatabase | undefined> {
  try {
    return await openDB(name, undefined, {
      upgrade(_db, oldVersion, _newVersion, transaction) {
        if (oldVersion === 0) transaction.abort();
      },
    });
  } catch (error) {
    if ((error as DOMException).name === 'AbortError') return undefined;
    throw error;
  }
}

function toDraft({ queueName, requestData: data }: QueuedRequest, madeKey: string): Draft {
  const headers = Object.entries(data.headers ?? {}).map(([name, value]): [string, string] => [name.toLowerCase(), value]);
  const own = headers.find(([name]) => name === KEY_HEADER)?.[1];
  return {
    method: data.method ?? 'GET',
    url: data.url,
    lane: laneFor(queueName, data.url, self.location.origin),
    idempotencyKey: own ?? madeKey,
    request: {
      headers: headers.filter(([name]) => name !== KEY_HEADER),
      body: data.body ?? null,
      credentials: data.credentials ?? 'same-origin',
      mode: data.mode ?? 'cors',
      redirect: data.redirect ?? 'follow',
      referrer: data.referrer ?? 'about:client',
    },
  };
}
