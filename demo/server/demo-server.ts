import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { headerValue, Idempotency, json, problem, readRequest, RedisIdempotencyStore, sendReply, WRITE_METHODS, type RedisCommands, type Reply } from '../../server/index.js';
import { Chaos } from './chaos.js';
import { DemoData, MemoryDemoStore, RedisDemoStore, type DemoRedis, type DemoStore } from './demo-store.js';
import type { GroceryApi } from './grocery-api.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json' };

/** A write the API processed: at most one per Idempotency-Key. */
export interface Processed {
  key: string;
  method: string;
  path: string;
  status: number;
  /** The version the write was made to, if it named one. */
  ifMatch?: string;
}

export interface DemoServerOptions {
  /** @default 0: any free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Start with one list to play with (unless another instance made it already). @default true */
  seed?: boolean;
  /**
   * A connected node-redis client: the lists and the Idempotency-Keys are then kept in
   * Redis, so that several instances serve one app. @default none: in this process
   */
  redis?: DemoRedis & RedisCommands;
  /** How long a write's key stays claimed while it is processed (Idempotency leaseMs). @default 60 s */
  leaseMs?: number;
}

/**
 * The demo's server: the page and built files, the grocery API behind Idempotency-Key
 * and the order guard, and the chaos controls at /_chaos (outside /api/, so the outbox,
 * registered for /api/ only, leaves them alone). The chaos controls and `processed` are
 * this instance's own.
 */
export class DemoServer {
  readonly chaos = new Chaos();
  readonly processed: Processed[] = [];
  readonly #store: DemoStore;
  readonly #idempotency: Idempotency;
  readonly #server = http.createServer((req, res) => void this.#handle(req, res));

  private constructor({ redis, leaseMs }: DemoServerOptions) {
    this.#store = redis ? new RedisDemoStore(redis) : new MemoryDemoStore();
    this.#idempotency = new Idempotency({ leaseMs, store: redis && new RedisIdempotencyStore({ client: redis, prefix: 'sw-outbox-demo:keys:' }) });
  }

  static async start({ port = 0, host = '127.0.0.1', seed = true, ...options }: DemoServerOptions = {}): Promise<DemoServer> {
    const server = new DemoServer(options);
    if (seed) {
      const data = new DemoData();
      const list = data.api.model.createList(randomUUID(), 'Weekly shop');
      for (const name of ['Milk', 'Eggs', 'Bread', 'Apples']) data.api.model.addItem(list.id, randomUUID(), name);
      await server.#store.seed(data);
    }
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(port, host, resolve);
    });
    return server;
  }

  /** The API of a server that keeps its data in this process, for tests to look into. */
  get api(): GroceryApi {
    if (!(this.#store instanceof MemoryDemoStore)) throw new Error('This demo server keeps its data in Redis: read it through the API.');
    return this.#store.data.api;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The URL pages should open; localhost is a secure context, as service workers need. */
  get url(): string {
    return `http://localhost:${this.port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const request = await readRequest(req);
      const path = request.url.pathname;
      if (path.startsWith('/api/')) return await this.#api(request, res);
      if (path === '/_chaos') return sendReply(res, this.#chaosControl(request.method, request.body));
      if (request.method !== 'GET') return sendReply(res, problem(405, 'Method not allowed', `${request.method} ${path}: only GET is served here.`));
      if (path === '/') return await this.#file(res, 'demo/public/index.html');
      if (path === '/outbox-sw.js') return await this.#file(res, 'dist/outbox-sw.js');
      if (path.startsWith('/dist/')) return await this.#file(res, path);
      return await this.#file(res, join('demo/public', path));
    } catch (error) {
      console.error(error);
      if (!res.headersSent) sendReply(res, problem(500, 'Internal Server Error', 'The demo server failed; its console says why.'));
    }
  }

  async #api(request: Awaited<ReturnType<typeof readRequest>>, res: http.ServerResponse): Promise<void> {
    // Each answer closes its connection: a browser silently re-sends a request whose
    // reused keep-alive connection drops, which would hide a lost answer.
    res.setHeader('Connection', 'close');
    const disruption = this.chaos.disruption();
    if (disruption.kind === 'reset') return void res.socket?.destroy();
    if (disruption.kind === 'unavailable') {
      return sendReply(res, problem(503, 'Service Unavailable', 'The chaos controls took the API down.', { 'retry-after': String(disruption.retryAfter) }));
    }

    if (!WRITE_METHODS.includes(request.method)) {
      if (disruption.delayMs > 0) await delay(disruption.delayMs);
      return sendReply(res, await this.#store.use(({ api }) => api.handle(request), false));
    }
    const key = headerValue(request.headers, 'idempotency-key');
    let processedNow = false;
    const reply = await this.#idempotency.run(
      { method: request.method, path: request.url.pathname + request.url.search, key, body: request.bytes },
      async (): Promise<Reply> => {
        processedNow = true;
        // A slow write is slow while its key is claimed, as a slow database makes it.
        if (disruption.delayMs > 0) await delay(disruption.delayMs);
        const reply = await this.#store.use(({ api, order }) => order.guard(headerValue(request.headers, 'outbox-client-id'), headerValue(request.headers, 'outbox-sequence'), () => api.handle(request)), true);
        const ifMatch = headerValue(request.headers, 'if-match');
        this.processed.push({ key: key ?? '', method: request.method, path: request.url.pathname, status: reply.status, ...(ifMatch === undefined ? {} : { ifMatch }) });
        return reply;
      },
    );
    // Only a fresh answer is lost: losing the stored one too would lose it forever.
    if (processedNow && this.chaos.losesResponses) return void res.socket?.destroy();
    sendReply(res, reply);
  }

  #chaosControl(method: string, body: string): Reply {
    try {
      if (method === 'GET') return json(200, this.chaos.settings);
      if (method === 'PUT') return json(200, this.chaos.update(JSON.parse(body || '{}')));
      if (method === 'DELETE') return json(200, this.chaos.reset());
      return problem(405, 'Method not allowed', 'GET /_chaos reads the settings, PUT changes some, DELETE turns them all off.');
    } catch (error) {
      return problem(400, 'Bad chaos settings', (error as Error).message);
    }
  }

  async #file(res: http.ServerResponse, path: string): Promise<void> {
    const file = normalize(join(ROOT, path));
    if (!file.startsWith(ROOT)) return sendReply(res, problem(404, 'Not found', path));
    try {
      const content = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(content);
    } catch {
      sendReply(res, problem(404, 'Not found', `${path} is not part of the demo.`));
    }
  }
}
