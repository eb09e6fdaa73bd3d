import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join } from 'node:path';
import { applyMergePatch, type Json } from '../../contract/json-merge.js';
import { keyEndpoint, type DeviceKeys } from '../../server/device-keys.js';
import { checkOutboxUser } from '../../server/outbox-user.js';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The drop-in's core, with its feature files beside it (dist/outbox-sw/). */
export const SPLIT_WORKER = join(ROOT, 'dist/outbox-sw/outbox-sw.js');

/** A write the server applied. */
export interface Commit {
  key: string;
  method: string;
  path: string;
  body: string;
  clientId: string | undefined;
  seq: number | undefined;
  /** The session's user (cookie `session`), when there was one. */
  user?: string | undefined;
  /** The body as it came, byte for byte. */
  bytes?: Buffer;
}

/** A request that reached an /api/ route, whatever happened to it next. */
export interface Arrival {
  key: string | undefined;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  bytes: Buffer;
  at: number;
}

/**
 * A fault for the next matching write:
 * - reset: the connection is destroyed before anything is applied;
 * - status: answered with that status (and Retry-After), nothing applied;
 * - lose-response: applied, then the connection is destroyed before any byte of the answer;
 * - hold: applied, and the answer waits until `release()` (or the client goes away).
 */
export type Fault =
  | { kind: 'reset' }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'lose-response' }
  | { kind: 'hold' }
  /** Applied only after `delayMs`, whether or not the client still waits (repeats meanwhile get 409). */
  | { kind: 'slow-commit'; delayMs: number };

interface Armed {
  fault: Fault;
  match: (arrival: Arrival) => boolean;
}

interface Stored {
  fingerprint: string;
  state: 'in-flight' | 'done';
  status: number;
  body: string;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json' };

/**
 * A real HTTP server for the end-to-end tests: serves the built files and a test page,
 * and an /api/ that honours Idempotency-Key as the IETF httpapi draft says (the stored
 * answer for a repeated key, 422 for a key reused with another payload, 409 while the
 * first is in flight), counting arrivals and commits per key.
 */
export class TestServer {
  readonly arrivals: Arrival[] = [];
  readonly commits: Commit[] = [];
  /**
   * JSON resources by path, each with a version: GET gives it with an ETag; a PUT or a
   * merge-patch PATCH with If-Match on its version applies, any other a bare 412 (a
   * server with no merging of its own, and no current representation in its answer).
   */
  readonly documents = new Map<string, { version: number; body: Json }>();
  /** When set, a write to /api/ needs `Authorization: Bearer <token>`, else 401 (never kept for its key). */
  token: string | undefined;
  /** Cookie sessions: the `session` cookie names the user, and a write whose Outbox-User is another is refused (checkOutboxUser). */
  checkUsers = false;
  /**
   * Cookie sessions that have ended: a write to /api/ from one is redirected (302) to the
   * sign-in page /login (200 HTML), as session apps do, and applied nothing.
   */
  readonly endedSessions = new Set<string>();
  /** When set, /outbox-key is sw-outbox/server's key endpoint for these keys, the session cookie naming the user. */
  keys: DeviceKeys | undefined;
  readonly #stored = new Map<string, Stored>();
  #armed: Armed[] = [];
  readonly #held: (() => void)[] = [];
  readonly #watchers = new Set<() => void>();
  readonly #server: http.Server;
  #port = 0;
  readonly #page: string;
  /**
   * The file served as /outbox-sw.js: the built drop-in, unless a test serves another
   * release, or OUTBOX_SW names one (to show that a case fails on an older build).
   */
  workerScript = process.env.OUTBOX_SW ?? join(ROOT, 'dist/outbox-sw.js');
  /** The worker's files served, in order: /outbox-sw.js, and the feature files beside it (dist/outbox-sw/). */
  readonly workerFiles: string[] = [];
  /** When set, the 409 for a key still in flight carries this Retry-After. */
  inFlightRetryAfter: string | undefined;
  /**
   * When on, the first repeat of each key still in flight has its connection dropped (a
   * proxy, or a keep-alive connection closed as it was reused): a network error to the
   * client, from a server that is answering.
   */
  dropFirstRepeat = false;
  readonly #dropped = new Set<string>();
  /** Writes without an Idempotency-Key get 400, as the draft says; off, they are applied like any API's. */
  requireKey = true;
  /** Each /api/ request waits this long before it is handled: a network's round trip, for benchmarks. */
  latencyMs = 0;
  /** Called at each arrival, for benchmarks that time them. */
  onArrival: (() => void) | undefined;
  /** Further files to serve, by path: the benchmarks' workers. */
  readonly files = new Map<string, string>();

  private constructor(page: string) {
    this.#page = page;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
  }

  /** Starts on `port` (0: any free one), serving `page` (from the repository root) at `/`. */
  static async start({ port = 0, page = 'test/fixtures/index.html' } = {}): Promise<TestServer> {
    const server = new TestServer(page);
    await server.listen(port);
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  listen(port = this.#port): Promise<void> {
    return new Promise((resolve) => {
      this.#server.listen(port, '127.0.0.1', () => {
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Stops accepting connections and drops the open ones: the server is down. */
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Arms a fault for the next write that matches (default: any write). */
  fail(fault: Fault, match: (arrival: Arrival) => boolean = () => true): void {
    this.#armed.push({ fault, match });
  }

  /** Disarms the faults that no write has met yet. */
  clearFaults(): void {
    this.#armed = [];
  }

  /** Lets every held answer go. */
  release(): void {
    for (const send of this.#held.splice(0)) send();
  }

  /** Matches the write whose JSON body has `field` equal to `value`. */
  static bodyHas(field: string, value: unknown): (arrival: Arrival) => boolean {
    return (arrival) => {
      try {
        return (JSON.parse(arrival.body) as Record<string, unknown>)[field] === value;
      } catch {
        return false;
      }
    };
  }

  commitsFor(key: string): Commit[] {
    return this.commits.filter((commit) => commit.key === key);
  }

  arrivalsFor(key: string): Arrival[] {
    return this.arrivals.filter((arrival) => arrival.key === key);
  }

  /** Resolves when `predicate` holds, checked after every arrival and commit. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#watchers.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.commits.length} commits, ${this.arrivals.length} arrivals)`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#watchers.delete(check);
        resolve();
      };
      this.#watchers.add(check);
    });
  }

  waitForCommits(count: number, timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.commits.length >= count, `${count} commits`, timeoutMs);
  }

  waitForArrivals(count: number, timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.arrivals.length >= count, `${count} arrivals`, timeoutMs);
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const body = bytes.toString('utf8');
    // Every answer closes its connection: Chromium silently re-sends a request whose
    // reused keep-alive connection drops before the answer, which would hide a lost answer.
    res.setHeader('Connection', 'close');

    if (url.pathname.startsWith('/api/')) {
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      return this.#api(req, res, url, body, bytes);
    }
    if (url.pathname === '/outbox-key' && this.keys) return keyEndpoint(this.keys, sessionOf)(Object.assign(req, { body: body ? JSON.parse(body) : null }), res);
    if (url.pathname === '/') return this.#file(res, join(ROOT, this.#page));
    if (url.pathname === '/login' && req.method === 'POST') {
      // Signing in starts a session again (the cookie names the user), then goes where the app was.
      const user = new URLSearchParams(body).get('user') ?? '';
      this.endedSessions.delete(user);
      return void res.writeHead(303, { Location: new URLSearchParams(url.search).get('next') ?? '/', 'Set-Cookie': `session=${user}; Path=/` }).end();
    }
    if (url.pathname === '/login') return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Sign in</title><h1>Sign in</h1><form method="post"><label>User <input name="user"></label><button>Sign in</button></form>`);
    if (url.pathname === '/outbox-sw.js' || /^\/outbox-sw-[a-z-]+\.js$/.test(url.pathname)) {
      this.workerFiles.push(url.pathname);
      return this.#file(res, join(dirname(this.workerScript), url.pathname === '/outbox-sw.js' ? basename(this.workerScript) : url.pathname));
    }
    if (url.pathname === '/outbox-register.js') return this.#file(res, join(ROOT, 'dist/outbox-register.js'));
    const extra = this.files.get(url.pathname);
    if (extra) return this.#file(res, extra);
    if (['/no-sync-sw.js', '/host-sw.js', '/future-sw.js', '/silent-sw.js', '/form.html', '/notes.html', '/one-line.html'].includes(url.pathname)) return this.#file(res, join(ROOT, 'test/fixtures', url.pathname));
    if (url.pathname.startsWith('/dist/')) return this.#file(res, join(ROOT, url.pathname));
    res.writeHead(404).end();
  }

  /** The first armed fault this arrival matches, disarmed. */
  #takeFault(arrival: Arrival): Fault | undefined {
    const armed = this.#armed.find((candidate) => candidate.match(arrival));
    if (armed) this.#armed.splice(this.#armed.indexOf(armed), 1);
    return armed?.fault;
  }

  async #file(res: http.ServerResponse, path: string): Promise<void> {
    try {
      const content = await readFile(path);
      res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' }).end(content);
    } catch {
      res.writeHead(404).end();
    }
  }

  #api(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string, bytes: Buffer): void {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE', 'Access-Control-Allow-Headers': '*' }).end();
      return;
    }
    const key = header(req, 'idempotency-key');
    const arrival: Arrival = { key, method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body, bytes, at: Date.now() };
    this.arrivals.push(arrival);
    this.onArrival?.();
    this.#notify();

    const document = this.documents.get(url.pathname);
    if (document && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: `"${document.version}"` }).end(JSON.stringify(document.body));
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const commits = this.commits.filter((commit) => commit.path === url.pathname).map(({ method, body, seq }) => ({ method, body, seq }));
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Seen-Key': key ?? '' }).end(JSON.stringify({ commits }));
      return;
    }
    const session = sessionOf(req);
    if (req.method !== 'GET' && session !== undefined && this.endedSessions.has(session)) {
      // Back to the page the person was on once they sign in, as session apps do.
      const from = req.headers.referer ? new URL(req.headers.referer) : url;
      res.writeHead(302, { Location: `/login?next=${encodeURIComponent(from.pathname)}` }).end();
      return;
    }
    const mismatch = this.checkUsers ? checkOutboxUser(header(req, 'outbox-user'), sessionOf(req)) : undefined;
    if (mismatch) {
      res.writeHead(mismatch.status, mismatch.headers).end(mismatch.body);
      return;
    }
    if (this.token !== undefined && header(req, 'authorization') !== `Bearer ${this.token}`) {
      return problem(res, 401, 'Sign in again', 'This write needs the current session.');
    }
    if (!key && this.requireKey) {
      problem(res, 400, 'Idempotency-Key is missing', 'This API applies writes only with an Idempotency-Key.');
      return;
    }
    if (!key) {
      // A write without a key (a client without an outbox) meets a reset like any other.
      if (this.#takeFault(arrival)?.kind === 'reset') return void res.socket?.destroy();
      return this.#commit(req, res, url, arrival, randomUUID(), undefined);
    }
    const fingerprint = `${req.method} ${url.pathname} ${body}`;
    const stored = this.#stored.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint) return problem(res, 422, 'Idempotency-Key reused', 'This key was used for another request.');
      if (stored.state === 'in-flight' && this.dropFirstRepeat && !this.#dropped.has(key)) {
        this.#dropped.add(key);
        return void res.socket?.destroy();
      }
      if (stored.state === 'in-flight') return problem(res, 409, 'Request in flight', 'A request with this key is still being processed.', this.inFlightRetryAfter ? { 'Retry-After': this.inFlightRetryAfter } : {});
      res.writeHead(stored.status, { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' }).end(stored.body);
      return;
    }

    const fault = this.#takeFault(arrival);
    if (fault?.kind === 'reset') return void res.socket?.destroy();
    if (fault?.kind === 'slow-commit') {
      this.#stored.set(key, { fingerprint, state: 'in-flight', status: 0, body: '' });
      setTimeout(() => this.#commit(req, res, url, arrival, key, undefined, fingerprint), fault.delayMs);
      return;
    }
    if (fault?.kind === 'status') {
      const headers: http.OutgoingHttpHeaders = fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {};
      return problem(res, fault.status, `Fault ${fault.status}`, 'Injected by the test.', headers);
    }

    if (document) return this.#writeDocument(req, res, url, arrival, key, document);
    this.#commit(req, res, url, arrival, key, fault, fingerprint);
  }

  #writeDocument(req: http.IncomingMessage, res: http.ServerResponse, url: URL, arrival: Arrival, key: string, document: { version: number; body: Json }): void {
    if (header(req, 'if-match') !== `"${document.version}"`) return problem(res, 412, 'Precondition failed', 'The document has changed.');
    const sent = JSON.parse(arrival.body) as Json;
    document.body = req.method === 'PATCH' ? applyMergePatch(document.body, sent) : sent;
    document.version += 1;
    this.commits.push({ key, method: arrival.method, path: url.pathname, body: arrival.body, clientId: header(req, 'outbox-client-id'), seq: Number(header(req, 'outbox-sequence')) });
    this.#notify();
    res.writeHead(200, { 'Content-Type': 'application/json', ETag: `"${document.version}"` }).end(JSON.stringify(document.body));
  }

  #commit(req: http.IncomingMessage, res: http.ServerResponse, url: URL, arrival: Arrival, key: string, fault: Fault | undefined, fingerprint?: string): void {
    const seq = header(req, 'outbox-sequence');
    this.commits.push({ key, method: arrival.method, path: url.pathname, body: arrival.body, bytes: arrival.bytes, clientId: header(req, 'outbox-client-id'), seq: seq ? Number(seq) : undefined, user: sessionOf(req) });
    const answer = JSON.stringify({ committed: this.commits.length, key });
    if (fingerprint) this.#stored.set(key, { fingerprint, state: 'done', status: 201, body: answer });
    this.#notify();

    if (fault?.kind === 'lose-response') return void res.socket?.destroy();
    // ?then=<path>: a server-rendered form's post/redirect/get, to that page.
    const then = url.searchParams.get('then');
    const commit = String(this.commits.length);
    const send = () => {
      if (res.destroyed) return;
      if (then) res.writeHead(303, { Location: `${then}?sent=${commit}` }).end();
      else res.writeHead(201, { 'Content-Type': 'application/json', 'X-Commit': commit }).end(answer);
    };
    if (fault?.kind === 'hold') this.#held.push(send);
    else send();
  }
}

function sessionOf(req: http.IncomingMessage): string | undefined {
  return /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function problem(res: http.ServerResponse, status: number, title: string, detail: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/problem+json', ...headers }).end(JSON.stringify({ title, status, detail }));
}
