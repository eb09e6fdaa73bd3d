import { createHash } from 'node:crypto';
import { InvalidKeyError, parseIdempotencyKey } from './idempotency-key.js';
import { MemoryIdempotencyStore, type IdempotencyStore } from './idempotency-store.js';
import { htmlProblem, problem, type Reply } from './problem.js';
import { IN_FLIGHT_PROBLEM_TYPE } from '../sw/protocol.js';

export interface IdempotencyOptions {
  /** Where keys and replies are kept. @default a new MemoryIdempotencyStore (one process) */
  store?: IdempotencyStore;
  /**
   * How long a key is remembered, from its first request. A retry after that is a new
   * request. Clients must not retry for longer (sw-outbox's maxAgeMs is 7 days).
   * @default 7 days
   */
  ttlMs?: number;
  /** Answer 400 to a write that has no key, rather than process it unprotected. @default true */
  required?: boolean;
  /** @default Date.now (tests pass their own clock) */
  now?: () => number;
}

/** The parts of a request the module looks at. */
export interface KeyedRequest {
  method: string;
  /** Path and query: a key reused on another resource is a different payload. */
  path: string;
  /** The Idempotency-Key header's value, if any. */
  key: string | undefined;
  body: string;
  /**
   * The request's Accept header. A browser's own form post (which asks for text/html)
   * that carries no usable key gets a readable HTML page rather than problem+json.
   */
  accept?: string;
  /**
   * Whose key space this is, when keys come from untrusted clients: a user id, say.
   * Without it, a client that learnt another's key would get that client's reply.
   * @default ''
   */
  scope?: string;
}

/** The reply header that marks a stored reply sent again. */
export const REPLAYED_HEADER = 'idempotent-replayed';

const DAY = 24 * 60 * 60 * 1000;

/**
 * Idempotency-Key as the IETF httpapi draft describes it: the first request with a key
 * is processed and its reply kept; a retry gets the kept reply; the key with another
 * payload gets 422; a retry while the first is processed gets 409. Errors are
 * problem+json. Framework-free: give it the request's parts and the work to do, and
 * send the reply it returns.
 */
export class Idempotency {
  readonly #store: IdempotencyStore;
  readonly #ttlMs: number;
  readonly #required: boolean;
  readonly #now: () => number;

  constructor({ store = new MemoryIdempotencyStore(), ttlMs = 7 * DAY, required = true, now = Date.now }: IdempotencyOptions = {}) {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`Idempotency: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}.`);
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#required = required;
    this.#now = now;
  }

  /**
   * Runs `process` at most once per key and returns the reply to send. A reply of 5xx,
   * or a throw, is not kept: the server failed, so the key is released and the client's
   * retry is processed afresh. `process` must therefore apply nothing when it fails.
   */
  async run(request: KeyedRequest, process: () => Promise<Reply> | Reply): Promise<Reply> {
    if (request.key === undefined) {
      if (!this.#required) return process();
      return forClient(request, problem(400, 'Idempotency-Key is missing', `${request.method} ${request.path} changes data, so it needs an Idempotency-Key header: a fresh unique value (a UUID) per write, the same on every retry of that write.`));
    }
    let key: string;
    try {
      key = `${request.scope ?? ''}\n${parseIdempotencyKey(request.key)}`;
    } catch (error) {
      if (!(error instanceof InvalidKeyError)) throw error;
      return forClient(request, problem(400, 'Idempotency-Key is malformed', `The Idempotency-Key header of ${request.method} ${request.path} cannot be used: ${error.message}. Send a quoted string such as "8e03978e-40d5-43e8-bc93-6894a57f9324".`));
    }

    const fingerprint = createHash('sha256').update(`${request.method}\n${request.path}\n${request.body}`).digest('base64url');
    const now = this.#now();
    const live = await this.#store.claim(key, { state: 'in-flight', fingerprint, expiresAt: now + this.#ttlMs }, now);
    if (live && live.fingerprint !== fingerprint) {
      return problem(422, 'Idempotency-Key is already used', `The key of ${request.method} ${request.path} was first sent with another method, path or body. Use a new key for a new write; resend a write with exactly its first payload.`);
    }
    if (live?.state === 'in-flight') {
      // The type tells this from the app's own 409 conflicts: sw-outbox retries it with the same key.
      return problem(409, 'A request with this Idempotency-Key is being processed', 'Retry once the first request has been answered; its reply will then be sent again.', { 'retry-after': '1' }, IN_FLIGHT_PROBLEM_TYPE);
    }
    if (live?.state === 'done') {
      return { ...live.reply, headers: { ...live.reply.headers, [REPLAYED_HEADER]: '?1' } };
    }

    let reply: Reply;
    try {
      reply = await process();
    } catch (error) {
      await this.#store.delete(key);
      throw error;
    }
    if (reply.status >= 500) await this.#store.delete(key);
    else await this.#store.set(key, { state: 'done', fingerprint, expiresAt: now + this.#ttlMs, reply });
    return reply;
  }
}

/**
 * A missing or malformed key, as the client can read it: problem+json for APIs, a page
 * for a browser's own form post (one that no outbox stamped), which asks for HTML.
 */
function forClient(request: KeyedRequest, reply: Reply): Reply {
  return request.accept && /\btext\/html\b/.test(request.accept) ? htmlProblem(reply) : reply;
}
