import { randomUUID, webcrypto } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEADERS } from '../contract/http.js';
import { readRequest, sendReply } from './node-http.js';
import { json, problem, type Reply } from './problem.js';

type JsonWebKey = webcrypto.JsonWebKey;

/**
 * The device keys of an outbox with encryption at rest (decision 0021): one ECDH P-256
 * key pair per user and device. The device keeps the public half and seals its writes to
 * it; the private half stays here and is handed, to its own user only, to the worker that
 * replays them. Revoking a key (at sign-out, or for a lost device) makes that device's
 * waiting writes unreadable for good: crypto-erase.
 */

/** One device key as the store keeps it. */
export interface DeviceKeyRecord {
  kid: string;
  user: string;
  /** The outbox's client id (Outbox-Client-Id): the device, or rather its browser profile. */
  device: string;
  publicKey: JsonWebKey;
  privateKey: JsonWebKey;
  createdAt: number;
}

/**
 * Where the keys live: memory for one process and tests; Redis (RedisDeviceKeyStore) or
 * the app's database for several instances, or keys that outlive a restart.
 */
export interface DeviceKeyStore {
  get(kid: string): Promise<DeviceKeyRecord | undefined>;
  /** The live key of a user's device, if it has one. */
  find(user: string, device: string): Promise<DeviceKeyRecord | undefined>;
  /**
   * Keeps the record, unless its user's device has a key already (another instance made
   * one at the same moment): the first one kept stays the device's only key, so that
   * revoking the device leaves no other behind.
   */
  put(record: DeviceKeyRecord): Promise<void>;
  /** Deletes for good: nothing of the private key may remain. */
  delete(kid: string): Promise<void>;
}

/** Keys in this process's memory: lost on restart, which revokes them all. */
export class MemoryDeviceKeyStore implements DeviceKeyStore {
  readonly #keys = new Map<string, DeviceKeyRecord>();
  /** Each user's device's key id, by `[user, device]` as JSON. */
  readonly #devices = new Map<string, string>();

  async get(kid: string): Promise<DeviceKeyRecord | undefined> {
    return this.#keys.get(kid);
  }

  async find(user: string, device: string): Promise<DeviceKeyRecord | undefined> {
    const kid = this.#devices.get(JSON.stringify([user, device]));
    return kid === undefined ? undefined : this.#keys.get(kid);
  }

  async put(record: DeviceKeyRecord): Promise<void> {
    const device = JSON.stringify([record.user, record.device]);
    if (this.#devices.has(device)) return;
    this.#devices.set(device, record.kid);
    this.#keys.set(record.kid, record);
  }

  async delete(kid: string): Promise<void> {
    const record = this.#keys.get(kid);
    if (!record) return;
    this.#keys.delete(kid);
    this.#devices.delete(JSON.stringify([record.user, record.device]));
  }
}

/** A request to the key endpoint, as any framework gives it. */
export interface KeyRequest {
  method: string;
  /** The query string's parameters (`kid`). */
  query: URLSearchParams;
  /** The parsed JSON body of a POST: `{ device }`. */
  body: unknown;
  /** The user the app authenticated for this request; undefined: nobody signed in. */
  user: string | undefined;
  /** The request's Outbox-User header: the user the outbox believes is signed in. */
  outboxUser?: string | undefined;
}

const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;
// Private keys must not land in any HTTP cache on the device, nor public ones go stale.
const NO_STORE = { 'cache-control': 'no-store' };

export class DeviceKeys {
  readonly #store: DeviceKeyStore;

  constructor({ store = new MemoryDeviceKeyStore() }: { store?: DeviceKeyStore } = {}) {
    this.#store = store;
  }

  /** The public half of the user's key for this device, made on first use. */
  async issue(user: string, device: string): Promise<{ kid: string; publicKey: JsonWebKey }> {
    const kept = await this.#store.find(user, device);
    if (kept) return { kid: kept.kid, publicKey: kept.publicKey };
    const pair = (await webcrypto.subtle.generateKey(ECDH, true, ['deriveBits'])) as webcrypto.CryptoKeyPair;
    const record: DeviceKeyRecord = {
      kid: randomUUID(),
      user,
      device,
      publicKey: await webcrypto.subtle.exportKey('jwk', pair.publicKey),
      privateKey: await webcrypto.subtle.exportKey('jwk', pair.privateKey),
      createdAt: Date.now(),
    };
    await this.#store.put(record);
    // Another request (on this instance or another) may have stored one first: theirs is the device's key.
    const issued = (await this.#store.find(user, device)) ?? record;
    return { kid: issued.kid, publicKey: issued.publicKey };
  }

  /** The private half, for its own user only: another user's key is as unknown as a revoked one. */
  async privateKey(user: string, kid: string): Promise<JsonWebKey | undefined> {
    const record = await this.#store.get(kid);
    return record?.user === user ? record.privateKey : undefined;
  }

  /** Revokes the user's key `kid`, or every key of the user's `device`; resolves with how many went. */
  async revoke(user: string, which: { kid: string } | { device: string }): Promise<number> {
    const record = 'kid' in which ? await this.#store.get(which.kid) : await this.#store.find(user, which.device);
    if (record?.user !== user) return 0;
    await this.#store.delete(record.kid);
    return 1;
  }

  /**
   * The key endpoint: `POST {device}` issues (or gives again) the public key, `GET ?kid=`
   * gives the private key, `DELETE ?kid=` revokes. Every answer is `no-store`.
   */
  async answer(request: KeyRequest): Promise<Reply> {
    const { user, outboxUser } = request;
    if (user === undefined) return problem(401, 'Sign in first', 'Device keys are given to a signed-in user only.', NO_STORE);
    if (outboxUser !== undefined && outboxUser !== user) {
      return problem(403, 'Another user is signed in', `The outbox asks for ${JSON.stringify(outboxUser)}'s key (its ${HEADERS.user} header), and the session is ${JSON.stringify(user)}'s.`, NO_STORE);
    }
    const kid = request.query.get('kid');
    if (request.method === 'POST') {
      const device = (request.body as { device?: unknown } | null)?.device;
      if (typeof device !== 'string' || device === '' || device.length > 200) {
        return problem(400, 'No device', 'Send {"device": "<the outbox client id>"} as JSON: each device has a key of its own.', NO_STORE);
      }
      return json(200, await this.issue(user, device), NO_STORE);
    }
    if (!kid) return problem(400, 'No key id', `Name the key: ${request.method} ?kid=<the key's id>.`, NO_STORE);
    if (request.method === 'GET') {
      const privateKey = await this.privateKey(user, kid);
      if (!privateKey) return problem(404, 'No such key', 'This key was revoked, or is not this user’s: the writes sealed to it cannot be read.', NO_STORE);
      return json(200, { kid, privateKey }, NO_STORE);
    }
    if (request.method === 'DELETE') {
      await this.revoke(user, { kid });
      return { status: 204, headers: NO_STORE, body: '' };
    }
    return problem(405, 'Method not allowed', 'The key endpoint answers POST, GET ?kid= and DELETE ?kid=.', { ...NO_STORE, allow: 'POST, GET, DELETE' });
  }
}

/**
 * The key endpoint as a Node.js handler (node:http, and Express, whose req and res are
 * Node's): `user` says who the request's session belongs to. A body Express already
 * parsed (`express.json()`) is used as it is.
 */
export function keyEndpoint(keys: DeviceKeys, user: (req: IncomingMessage) => string | undefined | Promise<string | undefined>) {
  return async (req: IncomingMessage & { body?: unknown }, res: ServerResponse): Promise<void> => {
    try {
      const read = req.body === undefined ? await readRequest(req, 16 * 1024) : undefined;
      const text = read?.body ?? '';
      const outboxUser = req.headers[HEADERS.user.toLowerCase()];
      sendReply(
        res,
        await keys.answer({
          method: req.method ?? 'GET',
          query: new URL(req.url ?? '/', 'http://localhost').searchParams,
          body: req.body ?? (text ? JSON.parse(text) : null),
          user: await user(req),
          outboxUser: Array.isArray(outboxUser) ? outboxUser[0] : outboxUser,
        }),
      );
    } catch (error) {
      sendReply(res, problem(400, 'Unreadable key request', `${error instanceof Error ? error.message : String(error)}: send JSON.`, NO_STORE));
    }
  };
}
