/** What the Redis-backed stores share: their options, the check of the client given, and their keys' prefix. */

/** The options of a Redis-backed store, `Commands` being what it sends. */
export interface RedisStoreOptions<Commands> {
  /** A connected node-redis client: `await createClient({ url }).connect()`. The app owns it (and closes it). */
  client: Commands;
  /** Put before every key, to keep these keys apart from the app's own. Each store has its own default. */
  prefix?: string;
}

/** Runs a Lua script atomically: how the stores check and change keys in one step. */
export interface RedisEval {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** A store's part of Redis: a client checked to have the methods the store sends, and the prefix of its keys. */
export abstract class RedisKeyspace<Commands> {
  protected readonly client: Commands;
  protected readonly prefix: string;

  protected constructor(store: string, { client, prefix }: RedisStoreOptions<Commands>, defaultPrefix: string, methods: readonly (keyof Commands & string)[]) {
    if (methods.some((method) => typeof (client as Record<string, unknown> | undefined)?.[method] !== 'function')) {
      throw new TypeError(`${store}: client must be a connected node-redis client, e.g. await createClient({ url: process.env.REDIS_URL }).connect().`);
    }
    this.client = client;
    this.prefix = prefix ?? defaultPrefix;
  }
}
