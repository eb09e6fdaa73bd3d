import type { Entry, StoredRequest } from './entry.js';
import type { Logger } from './logger.js';

/** What a write's credentials are asked by: the write, without its body. */
export type CredentialsWrite = { url: string; method: string; lane: string };
/** Gives the credential headers for a write, or undefined (the `credentials` hook, an open page). */
export type CredentialsSource = (write: CredentialsWrite & { names: string[] }) => Record<string, string> | null | undefined | Promise<Record<string, string> | null | undefined>;

type Headers = [string, string][];

/**
 * The credential headers of writes (decision 0019): never stored, only their names are.
 * Held in memory for the writes this worker took, by entry id, and dropped when the write
 * settles or they are refused; otherwise asked of the `credentials` hook, else the pages.
 */
export class Credentials {
  readonly #held = new Map<number, Headers>();
  readonly #hook: CredentialsSource | undefined;
  readonly #pages: CredentialsSource | undefined;
  /** The header names that carry credentials (option `credentialHeaders`). */
  readonly #names: readonly string[];
  readonly #log: Logger;

  constructor({ hook, pages, names, log }: { hook?: CredentialsSource | undefined; pages?: CredentialsSource | undefined; names: readonly string[]; log: Logger }) {
    this.#hook = hook;
    this.#pages = pages;
    this.#names = names;
    this.#log = log;
  }

  /** Keeps a write's credential headers, taken from it as it was stored, while this worker lives. */
  hold(id: number, headers: Headers): void {
    if (headers.length > 0) this.#held.set(id, headers);
  }

  /** The headers held for a write, if any. */
  held(id: number): Headers | undefined {
    return this.#held.get(id);
  }

  /** The write settled, gave up, or is gone: its headers are of no more use. */
  drop(id: number): void {
    this.#held.delete(id);
  }

  /** Refused: every write held with the same headers would be refused too, and asks again. */
  refused(id: number): void {
    const refused = JSON.stringify(this.#held.get(id) ?? null);
    for (const [other, held] of this.#held) if (JSON.stringify(held) === refused) this.#held.delete(other);
  }

  /** The credentials changed: nothing held may be sent any more (a token refreshed while offline). */
  forgetAll(): void {
    this.#held.clear();
  }

  /** The request with the credential headers it was made with, when it had any. */
  async addTo(entry: Pick<Entry, 'id' | 'url' | 'method' | 'lane'>, request: StoredRequest): Promise<StoredRequest> {
    if (!request.credentialNames) return request;
    return { ...request, headers: [...request.headers, ...(await this.for(entry, request.credentialNames))] };
  }

  /** A write's credential headers for an attempt: held, else the hook's, else an open page's. */
  async for(entry: Pick<Entry, 'id' | 'url' | 'method' | 'lane'>, names: string[]): Promise<Headers> {
    const held = this.#held.get(entry.id);
    if (held) return held;
    const write = { url: entry.url, method: entry.method, lane: entry.lane, names };
    try {
      return namedHeaders((await this.#hook?.(write)) ?? (await this.#pages?.(write)) ?? {}, names);
    } catch (error) {
      this.#log(`#${entry.id} no credentials:`, error);
      return [];
    }
  }

  /** Whether the hook or the pages give a write other credentials than `refused` (a token refreshed since). */
  async othersThan(entry: Pick<Entry, 'id' | 'url' | 'method' | 'lane'>, names: string[], refused: Headers): Promise<boolean> {
    const given = await this.for(entry, names);
    return given.length > 0 && JSON.stringify(given) !== JSON.stringify(refused);
  }

  /**
   * The headers a device-key request goes with, beside the session's cookies: the hook's,
   * else those of the write this worker took last. Pages are not asked: a page without an
   * onCredentials callback never answers, and a key request would wait out that silence
   * (3 s) on the write path.
   */
  async forKeyRequest(url: string): Promise<Headers> {
    try {
      const given = await this.#hook?.({ url, method: 'GET', lane: '', names: [...this.#names] });
      if (given) return namedHeaders(given, this.#names);
    } catch (error) {
      this.#log('no credentials for the key endpoint:', error);
    }
    return [...this.#held.values()].at(-1) ?? [];
  }
}

/** The headers given, in lower case, that are among `names`: credentials never carry anything else. */
function namedHeaders(given: Record<string, string>, names: readonly string[]): Headers {
  return Object.entries(given)
    .map(([name, value]): [string, string] => [name.toLowerCase(), value])
    .filter(([name]) => names.includes(name));
}
