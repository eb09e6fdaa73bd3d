import { HEADERS } from '../contract/http.js';
import { importPrivateKey, importPublicKey, Opener, Sealer } from './sealing.js';
import { isSealed, type KeptRequest, type SealedBox, type SealedRequest, type StoredRequest } from './entry.js';
import { decodeRequest, encodeRequest } from './stored-request.js';

/** A device key's public half as the outbox keeps it (the `keys` store), one per user ('' for none). */
export interface KeptKey {
  user: string;
  kid: string;
  publicKey: JsonWebKey;
}

/** Why a key could not be had: no answer; refused (401, 403: sign in again); revoked (404, 410); a malformed answer. */
export class KeyUnavailable extends Error {
  constructor(
    readonly why: 'offline' | 'refused' | 'revoked' | 'invalid',
    message: string,
    /** The key endpoint's answer, when it gave one. */
    readonly response?: Response,
  ) {
    super(message);
    this.name = 'KeyUnavailable';
  }
}

export interface DeviceKeyDeps {
  /** The key endpoint, absolute. */
  url: string;
  fetch: (request: Request) => Promise<Response>;
  clientId: () => Promise<string>;
  /** The credential headers a key request goes with (the app's, as for its writes). */
  credentials: () => Promise<[string, string][]>;
  keptKey: (user: string) => Promise<KeptKey | undefined>;
  keepKey: (key: KeptKey) => Promise<void>;
  dropKey: (user: string) => Promise<void>;
}

/**
 * The worker's side of encryption at rest (decision 0021): seals with the public half of
 * the user's device key, kept on the device; opens with the private half, fetched from the
 * key endpoint when a sealed record must be read, and kept in this worker's memory only.
 */
export class DeviceKey {
  readonly #deps: DeviceKeyDeps;
  /** By user ('' for none). */
  readonly #sealers = new Map<string, Promise<Sealer>>();
  /** By key id. */
  readonly #openers = new Map<string, Promise<Opener>>();

  constructor(deps: DeviceKeyDeps) {
    this.#deps = deps;
  }

  /** Seals a request to its user's key: rejects with KeyUnavailable when no key is known and none can be fetched. */
  async sealRequest(request: StoredRequest, user: string | undefined): Promise<SealedRequest> {
    return { sealed: await (await this.#sealer(user ?? '')).seal(encodeRequest(request)) };
  }

  /** A kept request as it was made: sealed ones are opened (the private key is fetched if need be), plain ones are as they are. */
  async openRequest(record: KeptRequest): Promise<StoredRequest> {
    return isSealed(record) ? decodeRequest(await this.open(record.sealed)) : record;
  }

  /** Opens a box only if its private key is in memory already: no network. */
  async openIfHeld(box: SealedBox): Promise<Uint8Array | undefined> {
    if (!this.#openers.has(box.kid)) return undefined;
    return this.open(box).catch(() => undefined);
  }

  async seal(bytes: Uint8Array<ArrayBuffer>, user: string | undefined): Promise<SealedBox> {
    return (await this.#sealer(user ?? '')).seal(bytes);
  }

  async open(box: SealedBox): Promise<Uint8Array> {
    return (await this.#opener(box.kid)).open(box);
  }

  /** Makes sure the user's public key is on the device, fetching it now if it is not: so that later writes, offline too, can be sealed. */
  async prepare(user: string | undefined): Promise<void> {
    await this.#sealer(user ?? '');
  }

  /** Forgets every private key held (a user signed out): the next replay asks the key endpoint again, as the next user. */
  forgetPrivateKeys(): void {
    this.#openers.clear();
  }

  /** Revokes the user's key on the server and forgets it here: what was sealed to it can no longer be read anywhere. */
  async revoke(user: string | undefined): Promise<void> {
    const kept = await this.#deps.keptKey(user ?? '');
    this.#sealers.delete(user ?? '');
    this.forgetPrivateKeys();
    if (!kept) return;
    await this.#deps.dropKey(user ?? '');
    await this.#request('DELETE', `?kid=${encodeURIComponent(kept.kid)}`, user).catch(() => {});
  }

  #sealer(user: string): Promise<Sealer> {
    let sealer = this.#sealers.get(user);
    if (!sealer) {
      sealer = this.#newSealer(user);
      this.#sealers.set(user, sealer);
      sealer.catch(() => this.#sealers.delete(user));
    }
    return sealer;
  }

  async #newSealer(user: string): Promise<Sealer> {
    let kept = await this.#deps.keptKey(user);
    if (!kept) {
      const answer = await this.#request('POST', '', user || undefined, JSON.stringify({ device: await this.#deps.clientId() }));
      const { kid, publicKey } = answer as { kid?: unknown; publicKey?: unknown };
      if (typeof kid !== 'string' || typeof publicKey !== 'object' || publicKey === null) throw new KeyUnavailable('invalid', `the key endpoint ${this.#deps.url} answered without {kid, publicKey}`);
      kept = { user, kid, publicKey: publicKey as JsonWebKey };
      await this.#deps.keepKey(kept);
    }
    return new Sealer(kept.kid, await importPublicKey(kept.publicKey));
  }

  #opener(kid: string): Promise<Opener> {
    let opener = this.#openers.get(kid);
    if (!opener) {
      opener = this.#request('GET', `?kid=${encodeURIComponent(kid)}`, undefined).then(async (answer) => {
        const { privateKey } = answer as { privateKey?: unknown };
        if (typeof privateKey !== 'object' || privateKey === null) throw new KeyUnavailable('invalid', `the key endpoint ${this.#deps.url} answered without {privateKey}`);
        return new Opener(await importPrivateKey(privateKey as JsonWebKey));
      });
      this.#openers.set(kid, opener);
      opener.catch((error: unknown) => {
        this.#openers.delete(kid);
        if (error instanceof KeyUnavailable && error.why === 'revoked') void this.#forgetRevoked(kid);
      });
    }
    return opener;
  }

  /** A revoked key seals nothing more: the next write fetches a new one. */
  async #forgetRevoked(kid: string): Promise<void> {
    for (const [user, sealer] of this.#sealers) {
      if ((await sealer.catch(() => undefined))?.kid !== kid) continue;
      this.#sealers.delete(user);
      await this.#deps.dropKey(user).catch(() => {});
    }
  }

  /** One request to the key endpoint, never cached: its JSON answer, or a KeyUnavailable. */
  async #request(method: string, query: string, user: string | undefined, body?: string): Promise<unknown> {
    const headers = new Headers(await this.#deps.credentials());
    if (body !== undefined) headers.set('Content-Type', 'application/json');
    if (user !== undefined) headers.set(HEADERS.user, user);
    let response: Response;
    try {
      response = await this.#deps.fetch(new Request(this.#deps.url + query, { method, headers, body: body ?? null, cache: 'no-store', credentials: 'same-origin' }));
    } catch (error) {
      throw new KeyUnavailable('offline', `the key endpoint ${this.#deps.url} could not be reached (${error instanceof Error ? error.message : String(error)})`);
    }
    if (response.status === 401 || response.status === 403) throw new KeyUnavailable('refused', `the key endpoint ${this.#deps.url} refused this session (${response.status})`, response);
    if (response.status === 404 || response.status === 410) throw new KeyUnavailable('revoked', `the device key it was encrypted with was revoked, so it can no longer be read (the key endpoint answered ${response.status})`, response);
    if (!response.ok) throw new KeyUnavailable(response.status >= 500 ? 'offline' : 'invalid', `the key endpoint ${this.#deps.url} answered ${response.status}`, response);
    return method === 'DELETE' ? null : response.json().catch(() => {
      throw new KeyUnavailable('invalid', `the key endpoint ${this.#deps.url} answered with no JSON`);
    });
  }
}
