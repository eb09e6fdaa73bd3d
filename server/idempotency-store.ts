import type { Reply } from './problem.js';

/**
 * A key whose request is being processed. Its lease is short: a server that dies
 * mid-write must not lock the key for its whole lifetime. `token` is unique per claim,
 * so that a request whose lease ran out cannot settle a later request's claim.
 */
export interface InFlightRecord {
  state: 'in-flight';
  fingerprint: string;
  expiresAt: number;
  token: string;
}

/** A key whose reply is kept, to be sent again to every retry until it expires. */
export interface DoneRecord {
  state: 'done';
  fingerprint: string;
  expiresAt: number;
  reply: Reply;
}

/** What is known of a key. */
export type KeyRecord = InFlightRecord | DoneRecord;

/**
 * Where keys are kept. The in-memory default serves one process; servers that run as
 * several instances need one shared store (RedisIdempotencyStore, or a database table)
 * whose `claim` is atomic, or two instances could both process one key. Every store
 * must pass test/support/store-contract.ts.
 */
export interface IdempotencyStore {
  /**
   * Stores `record` under `key` unless a record that has not expired at `now` is there,
   * in one atomic step. Returns that live record, or undefined when `record` was stored.
   * An expired record counts as absent.
   */
  claim(key: string, record: InFlightRecord, now: number): Promise<KeyRecord | undefined>;
  /** Replaces the claim `claimed` with `done` (kept until done.expiresAt, `now` being now); does nothing if `claimed` is no longer there. */
  complete(key: string, claimed: InFlightRecord, done: DoneRecord, now: number): Promise<void>;
  /** Removes the claim `claimed`, so that the next request is processed afresh; leaves any other record alone. */
  release(key: string, claimed: InFlightRecord): Promise<void>;
}

/** Keys in a Map, for a server that runs as one process. Lost on restart. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #records = new Map<string, KeyRecord>();

  async claim(key: string, record: InFlightRecord, now: number): Promise<KeyRecord | undefined> {
    this.#sweep(now);
    const live = this.#records.get(key);
    if (live && live.expiresAt > now) return live;
    // A key's place in the Map is its claim's: delete first, so that it moves to the end.
    this.#records.delete(key);
    this.#records.set(key, record);
    return undefined;
  }

  async complete(key: string, claimed: InFlightRecord, done: DoneRecord): Promise<void> {
    if (this.#records.get(key) === claimed) this.#records.set(key, done);
  }

  async release(key: string, claimed: InFlightRecord): Promise<void> {
    if (this.#records.get(key) === claimed) this.#records.delete(key);
  }

  /** How many keys are kept (expired ones go at a later claim). */
  get size(): number {
    return this.#records.size;
  }

  // The Map holds keys in claim order. A done record expires ttlMs after its claim and an
  // in-flight one leaseMs after it (leaseMs <= ttlMs), so behind a live record every
  // done record is live too; expired claims left behind one go when they reach the front.
  #sweep(now: number): void {
    for (const [key, record] of this.#records) {
      if (record.expiresAt > now) return;
      this.#records.delete(key);
    }
  }
}
