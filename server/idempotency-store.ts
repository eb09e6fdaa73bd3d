import type { Reply } from './problem.js';

/** What is known of a key: its request is being processed, or its reply is kept. */
export type KeyRecord =
  | { state: 'in-flight'; fingerprint: string; expiresAt: number }
  | { state: 'done'; fingerprint: string; expiresAt: number; reply: Reply };

/**
 * Where keys are kept. The in-memory default serves one process; servers that run as
 * several instances need one shared store (a database table, Redis) that implements
 * `claim` atomically, or two instances could both process one key.
 */
export interface IdempotencyStore {
  /**
   * Stores `record` under `key` unless a record that has not expired at `now` is there,
   * in one atomic step. Returns that live record, or undefined when `record` was stored.
   */
  claim(key: string, record: KeyRecord, now: number): Promise<KeyRecord | undefined>;
  /** Replaces the record of a claimed key (with its reply, once processed). */
  set(key: string, record: KeyRecord): Promise<void>;
  /** Forgets a key, so that its next request is processed afresh. */
  delete(key: string): Promise<void>;
}

/** Keys in a Map, for a server that runs as one process. Lost on restart. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #records = new Map<string, KeyRecord>();

  async claim(key: string, record: KeyRecord, now: number): Promise<KeyRecord | undefined> {
    this.#sweep(now);
    const live = this.#records.get(key);
    if (live) return live;
    this.#records.set(key, record);
    return undefined;
  }

  async set(key: string, record: KeyRecord): Promise<void> {
    this.#records.set(key, record);
  }

  async delete(key: string): Promise<void> {
    this.#records.delete(key);
  }

  /** How many keys are kept (expired ones go at the next claim). */
  get size(): number {
    return this.#records.size;
  }

  // Records expire in the order they were claimed (one ttl for all, and `set` keeps a
  // key's place in the Map), so the expired ones are always at the front.
  #sweep(now: number): void {
    for (const [key, record] of this.#records) {
      if (record.expiresAt > now) return;
      this.#records.delete(key);
    }
  }
}
