import type { DoneRecord, IdempotencyStore, InFlightRecord, KeyRecord } from './idempotency-store.js';
import { RedisKeyspace, type RedisEval, type RedisStoreOptions } from './redis-client.js';

/**
 * The commands the store sends, as a node-redis (`redis`, v5 or v6) client has them.
 * Any client, pool or cluster client with these two methods will do.
 */
export interface RedisCommands extends RedisEval {
  set(key: string, value: string, options: { condition: 'NX'; GET: true; expiration: { type: 'PX'; value: number } }): Promise<unknown>;
}

/** `prefix` defaults to `sw-outbox:idempotency:`. */
export type RedisIdempotencyStoreOptions = RedisStoreOptions<RedisCommands>;

// A record is replaced or removed only if it is still the claim it was: a request whose
// lease ran out must not settle the claim of the request that came after it. Redis runs
// a script atomically, so the check and the change cannot be split.
const COMPLETE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end return false";
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * Keys in Redis, shared by every instance of a server. A claim is one `SET NX GET` with
 * the lease as its expiry; a reply is kept with the key's remaining lifetime; Redis
 * expires both itself, so nothing sweeps. Needs Redis 7.0 or later (NX with GET).
 */
export class RedisIdempotencyStore extends RedisKeyspace<RedisCommands> implements IdempotencyStore {
  constructor(options: RedisIdempotencyStoreOptions) {
    super('RedisIdempotencyStore', options, 'sw-outbox:idempotency:', ['set', 'eval']);
  }

  async claim(key: string, record: InFlightRecord, now: number): Promise<KeyRecord | undefined> {
    const previous = await this.client.set(this.prefix + key, encode(record), { condition: 'NX', GET: true, expiration: { type: 'PX', value: remaining(record, now) } });
    return previous === null ? undefined : decode(String(previous));
  }

  async complete(key: string, claimed: InFlightRecord, done: DoneRecord, now: number): Promise<void> {
    await this.client.eval(COMPLETE, { keys: [this.prefix + key], arguments: [encode(claimed), encode(done), String(remaining(done, now))] });
  }

  async release(key: string, claimed: InFlightRecord): Promise<void> {
    await this.client.eval(RELEASE, { keys: [this.prefix + key], arguments: [encode(claimed)] });
  }
}

/** Milliseconds until `record` expires; at least 1, as Redis refuses 0. */
function remaining(record: KeyRecord, now: number): number {
  return Math.max(1, Math.ceil(record.expiresAt - now));
}

// JSON, with a byte body as base64 (JSON has no bytes). The same record always encodes
// to the same text, which is what the scripts compare.
function encode(record: KeyRecord): string {
  if (record.state === 'done' && typeof record.reply.body !== 'string') {
    const { body, ...reply } = record.reply;
    return JSON.stringify({ ...record, reply: { ...reply, bodyBase64: Buffer.from(body).toString('base64') } });
  }
  return JSON.stringify(record);
}

function decode(text: string): KeyRecord {
  const record = JSON.parse(text) as KeyRecord;
  if (record.state !== 'done') return record;
  const { bodyBase64, ...reply } = record.reply as DoneRecord['reply'] & { bodyBase64?: string };
  return bodyBase64 === undefined ? record : { ...record, reply: { ...reply, body: new Uint8Array(Buffer.from(bodyBase64, 'base64')) } };
}
