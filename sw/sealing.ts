import type { SealedBox } from './entry.js';

/**
 * Encryption at rest (decision 0021): a record is sealed to a device key's public half,
 * ECDH P-256 with an ephemeral key, HKDF-SHA-256 and AES-GCM with a fresh 96-bit IV, so
 * that sealing needs no secret on the device. Only the private half, which the app's
 * server holds and hands to the worker while it replays, opens it.
 */

const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;
const INFO = new TextEncoder().encode('sw-outbox seal v1');

/**
 * Seals records to one device key. The ephemeral key pair lives as long as this object
 * (one worker), in memory only: each record then costs one AES-GCM encryption, and the
 * key that could open what it sealed never reaches the disk.
 */
export class Sealer {
  readonly kid: string;
  readonly #ready: Promise<{ epk: ArrayBuffer; key: CryptoKey }>;

  constructor(kid: string, publicKey: CryptoKey) {
    this.kid = kid;
    this.#ready = (async () => {
      const ephemeral = await crypto.subtle.generateKey(ECDH, false, ['deriveBits']);
      const epk = await crypto.subtle.exportKey('raw', ephemeral.publicKey);
      return { epk, key: await aesKey(ephemeral.privateKey, publicKey, epk, kid) };
    })();
  }

  async seal(plain: Uint8Array<ArrayBuffer>): Promise<SealedBox> {
    const { epk, key } = await this.#ready;
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(this.kid) }, key, plain);
    return { kid: this.kid, epk, iv: iv.buffer, data };
  }
}

/** Opens records sealed to one device key, with its private half. */
export class Opener {
  readonly #privateKey: CryptoKey;
  /** One AES key per ephemeral key, that is per sealing worker: derived once. */
  readonly #keys = new Map<string, Promise<CryptoKey>>();

  constructor(privateKey: CryptoKey) {
    this.#privateKey = privateKey;
  }

  /** The plaintext; rejects (OperationError) when the box was sealed to another key or altered. */
  async open(box: SealedBox): Promise<Uint8Array<ArrayBuffer>> {
    const id = toHex(box.epk);
    let key = this.#keys.get(id);
    if (!key) {
      key = crypto.subtle.importKey('raw', box.epk, ECDH, false, []).then((epk) => aesKey(this.#privateKey, epk, box.epk, box.kid));
      this.#keys.set(id, key);
    }
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: box.iv, additionalData: new TextEncoder().encode(box.kid) }, await key, box.data));
  }
}

/** The device key's halves from the JWKs the key endpoint gives. */
export function importPublicKey(jwk: JsonWebKey): Promise<CryptoKey> {
  return crypto.subtle.importKey('jwk', jwk, ECDH, false, []);
}

export function importPrivateKey(jwk: JsonWebKey): Promise<CryptoKey> {
  return crypto.subtle.importKey('jwk', jwk, ECDH, false, ['deriveBits']);
}

async function aesKey(privateKey: CryptoKey, publicKey: CryptoKey, epk: ArrayBuffer, kid: string): Promise<CryptoKey> {
  const shared = await crypto.subtle.deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256);
  const hkdf = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const info = new Uint8Array([...INFO, ...new TextEncoder().encode(kid)]);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: epk, info }, hkdf, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
