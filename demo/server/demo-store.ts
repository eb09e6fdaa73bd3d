import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { GroceryApi } from './grocery-api.js';
import { GroceryModel, type ModelData } from './grocery-model.js';
import { OrderGuard } from './order-guard.js';

/** What the demo's API keeps: the lists, and the order guard's latest sequence per client. */
export class DemoData {
  constructor(
    readonly api = new GroceryApi(),
    readonly order = new OrderGuard(),
  ) {}

  static parse(text: string): DemoData {
    const { model, latest } = JSON.parse(text) as { model: ModelData; latest: [string, number][] };
    return new DemoData(new GroceryApi(GroceryModel.from(model)), new OrderGuard(latest));
  }

  toJSON(): { model: ModelData; latest: [string, number][] } {
    return { model: this.api.model.toJSON(), latest: this.order.toJSON() };
  }
}

/** Where the demo's data lives: in this process, or in Redis, shared by every instance. */
export interface DemoStore {
  /** Runs `use` on the data. A write runs alone, and its changes are kept before it returns. */
  use<T>(use: (data: DemoData) => T, write: boolean): Promise<T>;
  /** Stores `data` unless there is data already (another instance seeded it). */
  seed(data: DemoData): Promise<void>;
}

export class MemoryDemoStore implements DemoStore {
  data = new DemoData();

  async use<T>(use: (data: DemoData) => T): Promise<T> {
    return use(this.data);
  }

  async seed(data: DemoData): Promise<void> {
    this.data = data;
  }
}

/** The commands RedisDemoStore sends, as a node-redis client has them. */
export interface DemoRedis {
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options?: { condition: 'NX'; expiration?: { type: 'PX'; value: number } }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

const DATA = 'sw-outbox-demo:data';
const LOCK = 'sw-outbox-demo:lock';
const UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * The data as one JSON document in Redis. A write takes a lock (SET NX with an expiry, so
 * that an instance killed mid-write frees it), reads the document, applies, and saves it:
 * a demo's few writes a second need no more.
 */
export class RedisDemoStore implements DemoStore {
  constructor(readonly client: DemoRedis) {}

  async use<T>(use: (data: DemoData) => T, write: boolean): Promise<T> {
    if (!write) return use(await this.#load());
    const token = randomUUID();
    // Redis has no lock to wait on: try again shortly while another instance writes.
    while ((await this.client.set(LOCK, token, { condition: 'NX', expiration: { type: 'PX', value: 5_000 } })) === null) await delay(2);
    try {
      const data = await this.#load();
      const result = use(data);
      await this.client.set(DATA, JSON.stringify(data));
      return result;
    } finally {
      await this.client.eval(UNLOCK, { keys: [LOCK], arguments: [token] });
    }
  }

  async seed(data: DemoData): Promise<void> {
    await this.client.set(DATA, JSON.stringify(data), { condition: 'NX' });
  }

  async #load(): Promise<DemoData> {
    const text = await this.client.get(DATA);
    return text === null ? new DemoData() : DemoData.parse(String(text));
  }
}
