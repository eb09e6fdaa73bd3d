import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { headerValue, Idempotency, json, problem, readRequest, sendReply, WRITE_METHODS, type Reply } from '../../server/index.js';
import { Chaos } from './chaos.js';
import { GroceryApi } from './grocery-api.js';
import { OrderGuard } from './order-guard.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json' };

/** A write the API processed: at most one per Idempotency-Key. */
export interface Processed {
  key: string;
  method: string;
  path: string;
  status: number;
}

/**
 * The demo's server: the page and built files, the grocery API behind Idempotency-Key
 * and the order guard, and the chaos controls at /_chaos (outside /api/, so the outbox,
 * registered for /api/ only, leaves them alone).
 */
export class DemoServer {
  readonly api = new GroceryApi();
  readonly chaos = new Chaos();
  readonly processed: Processed[] = [];
  readonly #idempotency = new Idempotency();
  readonly #order = new OrderGuard();
  readonly #server = http.createServer((req, res) => void this.#handle(req, res));

  /** Starts on `port` (0: any free one), with one list to play with unless `seed` is false. */
  static async start({ port = 0, host = '127.0.0.1', seed = true } = {}): Promise<DemoServer> {
    const server = new DemoServer();
    if (seed) {
      const list = server.api.model.createList(randomUUID(), 'Weekly shop');
      for (const name of ['Milk', 'Eggs', 'Bread', 'Apples']) server.api.model.addItem(list.id, randomUUID(), name);
    }
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(port, host, resolve);
    });
    return server;
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
    if (disruption.delayMs > 0) await delay(disruption.delayMs);

    if (!WRITE_METHODS.includes(request.method)) return sendReply(res, this.api.handle(request));
    const key = headerValue(request.headers, 'idempotency-key');
    let processedNow = false;
    const reply = await this.#idempotency.run(
      { method: request.method, path: request.url.pathname + request.url.search, key, body: request.body },
      (): Reply => {
        processedNow = true;
        const reply = this.#order.admit(headerValue(request.headers, 'outbox-client-id'), headerValue(request.headers, 'outbox-sequence')) ?? this.api.handle(request);
        this.processed.push({ key: key ?? '', method: request.method, path: request.url.pathname, status: reply.status });
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
