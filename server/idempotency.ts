import { createHash, randomUUID } from 'node:crypto';
import { InvalidKeyError, parseIdempotencyKey } from './idempotency-key.js';
import { MemoryIdempotencyStore, type IdempotencyStore, type InFlightRecord } from './idempotency-store.js';
import { checkOutboxUser } from './outbox-user.js';
import { htmlProblem, problem, type Reply } from './problem.js';
import { REPLAYED_HEADER } from '../contract/http.js';
import { IN_FLIGHT_PROBLEM_TYPE } from '../contract/problem-types.js';

export interface IdempotencyOptions {
  /** Where keys and replies are kept. @default a new MemoryIdempotencyStore (one process) */
  store?: IdempotencyStore;
  /**
   * How long a key is remembered, from its first request. A retry after that is a new
   * request. Clients must not retry for longer (sw-outbox's maxAgeMs is 7 days).
   * @default 7 days
   */
  ttlMs?: number;
  /**
   * How long a key stays claimed while its request is processed. A server that dies
   * mid-write frees its keys after this: the client's retry is then processed afresh. Make
   * it longer than your slowest write takes, or a retry may be processed beside it.
   * @default 60 seconds, or ttlMs if that is shorter
   */
  leaseMs?: number;
  /**
   * Answer 400 to a write that has no key, rather than process it unprotected. Keep it
   * off while any client may send writes without a key: a page the worker does not
   * control yet (a first visit, a hard reload), a browser without service workers, other
   * API clients and scripts. Turn it on for APIs whose every client sends keys.
   * @default false
   */
  required?: boolean;
  /**
   * Called for each write processed without a key (with `required: false`), to count or
   * log them: how many clients still send no key tells when `required: true` is safe.
   * @default logs the first such write once, with how to count them
   */
  onKeyless?: (write: { method: string; path: string }) => void;
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
  /** The body as sent (bytes), or as a body parser left it (text, or JSON-serialisable data). */
  body: string | Uint8Array;
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
  /**
   * Who is signed in, when the server says (the adapters' `user` option): the session's
   * user, and the one the write was made by (its `Outbox-User` header). A write made by
   * another user is refused before its key is claimed (see checkOutboxUser).
   */
  user?: { session: string | undefined; outbox: string | undefined };
}

export { REPLAYED_HEADER };

const DAY = 24 * 60 * 60 * 1000;

/**
 * What {@link Idempotency.begin} decides: send `reply` (a stored reply, or a refusal), or
 * process the request and then settle its `claim` (absent for an unkeyed write that
 * `required: false` lets through).
 */
export type Admission = { reply: Reply; claim?: never } | { reply?: never; claim?: Claim };

/** A claimed key, to be settled with the reply once its request is processed. */
export class Claim {
  readonly #key: string;
  readonly #record: InFlightRecord;
  readonly #expiresAt: number;
  readonly #store: IdempotencyStore;
  readonly #now: () => number;

  /** @internal Made by {@link Idempotency.begin}. */
  constructor(key: string, record: InFlightRecord, expiresAt: number, store: IdempotencyStore, now: () => number) {
    this.#key = key;
    this.#record = record;
    this.#expiresAt = expiresAt;
    this.#store = store;
    this.#now = now;
  }

  /**
   * Keeps `reply` for the key's retries, or releases the key when the server failed (a
   * 5xx) or refused the credentials (401, 403), so that the retry, with fresh
   * credentials, is processed afresh rather than answered with a stale refusal.
   */
  async settle(reply: Reply): Promise<void> {
    if (reply.status >= 500 || reply.status === 401 || reply.status === 403) return this.release();
    await this.#store.complete(this.#key, this.#record, { state: 'done', fingerprint: this.#record.fingerprint, expiresAt: this.#expiresAt, reply }, this.#now());
  }

  /** Frees the key without a reply: the request failed and applied nothing. */
  release(): Promise<void> {
    return this.#store.release(this.#key, this.#record);
  }
}

/**
 * Idempotency-Key as the IETF httpapi draft describes it: the first request with a key
 * is processed and its reply kept; a retry gets the kept reply; the key with another
 * payload gets 422; a retry while the first is processed gets 409. Errors are
 * problem+json. Framework-free: give it the request's parts and the work to do, and
 * send the reply it returns (`run`), or use `begin` where the framework sends replies.
 */
export class Idempotency {
  readonly #store: IdempotencyStore;
  readonly #ttlMs: number;
  readonly #leaseMs: number;
  readonly #required: boolean;
  readonly #onKeyless: (write: { method: string; path: string }) => void;
  readonly #now: () => number;

  constructor({ store = new MemoryIdempotencyStore(), ttlMs = 7 * DAY, leaseMs = Math.min(60_000, ttlMs), required = false, onKeyless = logFirstKeyless(), now = Date.now }: IdempotencyOptions = {}) {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`Idempotency: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}.`);
    if (!Number.isFinite(leaseMs) || leaseMs <= 0 || leaseMs > ttlMs) {
      throw new RangeError(`Idempotency: leaseMs must be a positive number of milliseconds no larger than ttlMs (${ttlMs}), got ${String(leaseMs)}.`);
    }
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#leaseMs = leaseMs;
    this.#required = required;
    this.#onKeyless = onKeyless;
    this.#now = now;
  }

  /**
   * Runs `process` at most once per key and returns the reply to send. A reply of 5xx,
   * 401 or 403, or a throw, is not kept: the key is released and the client's retry is
   * processed afresh. `process` must therefore apply nothing when it fails.
   */
  async run(request: KeyedRequest, process: () => Promise<Reply> | Reply): Promise<Reply> {
    const { reply, claim } = await this.begin(request);
    if (reply) return reply;
    let processed: Reply;
    try {
      processed = await process();
    } catch (error) {
      await claim?.release();
      throw error;
    }
    await claim?.settle(processed);
    return processed;
  }

  /** Claims the request's key, or says what to answer instead. */
  async begin(request: KeyedRequest): Promise<Admission> {
    const otherUsers = request.user && checkOutboxUser(request.user.outbox, request.user.session);
    if (otherUsers) return { reply: otherUsers };
    if (request.key === undefined) {
      if (!this.#required) {
        this.#onKeyless({ method: request.method, path: request.path });
        return {};
      }
      return { reply: forClient(request, problem(400, 'Idempotency-Key is missing', `${request.method} ${request.path} changes data, so it needs an Idempotency-Key header: a fresh unique value (a UUID) per write, the same on every retry of that write.`)) };
    }
    let key: string;
    try {
      key = `${request.scope ?? ''}\n${parseIdempotencyKey(request.key)}`;
    } catch (error) {
      if (!(error instanceof InvalidKeyError)) throw error;
      return { reply: forClient(request, problem(400, 'Idempotency-Key is malformed', `The Idempotency-Key header of ${request.method} ${request.path} cannot be used: ${error.message}. Send a quoted string such as "8e03978e-40d5-43e8-bc93-6894a57f9324".`)) };
    }

    const fingerprint = createHash('sha256').update(`${request.method}\n${request.path}\n`).update(request.body).digest('base64url');
    const now = this.#now();
    const record: InFlightRecord = { state: 'in-flight', fingerprint, expiresAt: now + this.#leaseMs, token: randomUUID() };
    const live = await this.#store.claim(key, record, now);
    if (live === undefined) return { claim: new Claim(key, record, now + this.#ttlMs, this.#store, this.#now) };
    if (live.fingerprint !== fingerprint) {
      return { reply: problem(422, 'Idempotency-Key is already used', `The key of ${request.method} ${request.path} was first sent with another method, path or body. Use a new key for a new write; resend a write with exactly its first payload.`) };
    }
    if (live.state === 'in-flight') {
      // The type tells this from the app's own 409 conflicts: sw-outbox retries it with the same key.
      return { reply: problem(409, 'A request with this Idempotency-Key is being processed', 'Retry once the first request has been answered; its reply will then be sent again.', { 'retry-after': '1' }, IN_FLIGHT_PROBLEM_TYPE) };
    }
    return { reply: { ...live.reply, headers: { ...live.reply.headers, [REPLAYED_HEADER]: '?1' } } };
  }
}

/** The default onKeyless: one line, the first time, so that a busy server's log is not flooded. */
function logFirstKeyless(): (write: { method: string; path: string }) => void {
  let logged = false;
  return ({ method, path }) => {
    if (logged) return;
    logged = true;
    console.warn(`sw-outbox/server: processed ${method} ${path} without an Idempotency-Key, unprotected against repeats (clients the outbox does not control send none). Pass onKeyless to count such writes; required: true refuses them once every client sends keys.`);
  };
}

/**
 * A missing or malformed key, as the client can read it: problem+json for APIs, a page
 * for a browser's own form post (one that no outbox stamped), which asks for HTML.
 */
function forClient(request: KeyedRequest, reply: Reply): Reply {
  return request.accept && /\btext\/html\b/.test(request.accept) ? htmlProblem(reply) : reply;
}
