import type { DeviceKeyRecord, DeviceKeyStore } from './device-keys.js';
import { RedisKeyspace, type RedisEval, type RedisStoreOptions } from './redis-client.js';

/**
 * The commands the store sends, as a node-redis (`redis`, v5 or v6) client has them: the
 * same client the app gives RedisIdempotencyStore will do.
 */
export interface RedisDeviceKeyCommands extends RedisEval {
  get(key: string): Promise<unknown>;
}

/** `prefix` defaults to `sw-outbox:device-keys:`. */
export type RedisDeviceKeyStoreOptions = RedisStoreOptions<RedisDeviceKeyCommands>;

/**
 * Device keys in Redis, shared by every instance of a server and kept across their
 * restarts: a key made on one instance is served and revoked by all. Each key is one
 * record by its id, and an index from its user's device to the id; neither expires, since a
 * key lives until it is revoked. Redis then holds every private key: it must persist them
 * (AOF or RDB, else its own restart revokes every key) and be guarded as a secret store.
 * One Redis (with its replicas), not Redis Cluster: a key and its index are changed together.
 */
export class RedisDeviceKeyStore extends RedisKeyspace<RedisDeviceKeyCommands> implements DeviceKeyStore {
  constructor(options: RedisDeviceKeyStoreOptions) {
    super('RedisDeviceKeyStore', options, 'sw-outbox:device-keys:', ['get', 'eval']);
  }

  async get(kid: string): Promise<DeviceKeyRecord | undefined> {
    const text = await this.client.get(this.#kid(kid));
    return text === null || text === undefined ? undefined : (JSON.parse(String(text)) as DeviceKeyRecord);
  }

  async find(user: string, device: string): Promise<DeviceKeyRecord | undefined> {
    const kid = await this.client.get(this.#device(user, device));
    return kid === null || kid === undefined ? undefined : this.get(String(kid));
  }

  async put(record: DeviceKeyRecord): Promise<void> {
    await this.client.eval(PUT, { keys: [this.#kid(record.kid), this.#device(record.user, record.device)], arguments: [record.kid, JSON.stringify(record)] });
  }

  async delete(kid: string): Promise<void> {
    const record = await this.get(kid);
    if (!record) return;
    await this.client.eval(DELETE, { keys: [this.#kid(kid), this.#device(record.user, record.device)], arguments: [kid] });
  }

  #kid(kid: string): string {
    return `${this.prefix}kid:${kid}`;
  }

  // JSON keeps a user and a device apart whatever characters they hold.
  #device(user: string, device: string): string {
    return `${this.prefix}device:${JSON.stringify([user, device])}`;
  }
}

// One key per device: the first instance to store one for a user's device wins, and an
// instance that made another at the same moment gives out the winner's (see DeviceKeys.issue).
const PUT = "if redis.call('SET', KEYS[2], ARGV[1], 'NX') then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0";
const DELETE = "redis.call('DEL', KEYS[1]) if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end return 1";
