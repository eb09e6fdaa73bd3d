/**
 * Encryption at rest, as the outbox uses it (option `encryptionKeyUrl`, decision 0021):
 * what is sealed before it is stored, how a sealed write is opened to be sent, and where
 * the device's public keys are kept. The cryptography is in device-key.ts and sealing.ts.
 */
import { DeviceKey, KeyUnavailable } from './device-key.js';
import { isSealed, type KeptRequest, type SealedBox, type SealedRequest, type StoredRequest } from './entry.js';
import type { OutboxDb } from './outbox-db.js';
import { describe, OutboxError } from './outbox-error.js';
import type { AttemptResult } from './retry-policy.js';
import type { Transition } from './transitions.js';

/** A claimed sealed write, opened to be sent; or the attempt's result in its place; or why it never can be. */
export type Opened = { request: StoredRequest } | { result: AttemptResult } | { revoked: string };

export class AtRest {
  readonly #key: DeviceKey;
  readonly #log: (...args: unknown[]) => void;

  constructor(options: { url: string; fetch: (request: Request) => Promise<Response>; db: () => Promise<OutboxDb>; clientId: () => Promise<string>; credentials: () => Promise<[string, string][]>; log: (...args: unknown[]) => void }) {
    const { db } = options;
    this.#log = options.log;
    this.#key = new DeviceKey({
      url: options.url,
      fetch: options.fetch,
      clientId: options.clientId,
      credentials: options.credentials,
      // The public halves, in the outbox's database (store `keys`): what writes made offline are sealed to.
      keptKey: async (user) => (await db()).get('keys', user),
      keepKey: async (key) => void (await (await db()).put('keys', key)),
      dropKey: async (user) => (await db()).delete('keys', user),
    });
  }

  /** A request sealed to `user`'s device key, to be stored in place of it. */
  sealRequest(request: StoredRequest, user: string | undefined): Promise<SealedRequest> {
    return this.#key.sealRequest(request, user);
  }

  seal(bytes: Uint8Array<ArrayBuffer>, user: string | undefined): Promise<SealedBox> {
    return this.#key.seal(bytes, user);
  }

  /** A kept request as it can be read now; undefined when it cannot (no key at hand). */
  async read(record: KeptRequest): Promise<StoredRequest | undefined> {
    return this.#key.openRequest(record).catch(() => undefined);
  }

  /** What a box holds, if this worker holds its private key already: no network on the write path. */
  openIfHeld(box: SealedBox): Promise<Uint8Array | undefined> {
    return this.#key.openIfHeld(box);
  }

  /**
   * A claimed sealed write, opened to be sent. Without its key it is not sent: the key
   * endpoint's refusal (401, 403) stands as the attempt's answer, so the write waits for
   * credentials; no answer is an attempt without one; revoked, it can never be read.
   */
  async open(record: SealedRequest): Promise<Opened> {
    try {
      return { request: await this.#key.openRequest(record) };
    } catch (error) {
      if (!(error instanceof KeyUnavailable)) return { revoked: `it could not be decrypted (${describe(error)})` };
      if (error.why === 'revoked') return { revoked: error.message };
      if (error.why === 'refused' && error.response) return { result: { kind: 'response', response: error.response } };
      return { result: { kind: 'network-error', message: `its device key could not be had: ${error.message}` } };
    }
  }

  /** A transition whose request is to be stored, with that request sealed. Unsealable: it is stored without the request change. */
  async sealed<T extends Transition>(transition: T, user: string | undefined): Promise<T> {
    const request = transition.request;
    if (!request || isSealed(request)) return transition;
    try {
      return { ...transition, request: await this.#key.sealRequest(request, user) };
    } catch (error) {
      this.#log('could not seal; the request is kept as it was:', error);
      const { request: _dropped, ...rest } = transition;
      return rest as T;
    }
  }

  /** A conflict's request, opened for the page to see "ours"; an error that says what to do when it cannot be. */
  async openForPage(id: number, record: SealedRequest): Promise<StoredRequest> {
    try {
      return await this.#key.openRequest(record);
    } catch (error) {
      throw new OutboxError('undecryptable', `sw-outbox entry ${id} is sealed at rest and cannot be read now: ${describe(error)}. Try again online and signed in as its user.`);
    }
  }

  /** Fetches `user`'s public device key now, if the device has none, so that writes made offline later can be sealed. */
  async prepare(user: string | undefined): Promise<void> {
    try {
      await this.#key.prepare(user);
    } catch (error) {
      this.#log('no device key yet (writes are sealed once one is had):', error);
    }
  }

  /** Revokes `user`'s device key: no copy of their writes can be read anywhere (a purge's crypto-erase). */
  revoke(user: string | undefined): Promise<void> {
    return this.#key.revoke(user);
  }

  /** The next user must not read this one's writes with a key fetched in their session. */
  forgetPrivateKeys(): void {
    this.#key.forgetPrivateKeys();
  }
}
