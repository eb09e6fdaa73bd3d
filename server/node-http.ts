import type { IncomingMessage, ServerResponse } from 'node:http';
import { Idempotency, type IdempotencyOptions } from './idempotency.js';
import type { Reply } from './problem.js';

/** The methods whose requests change data, and so carry a key. */
export const WRITE_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** A request, read whole: what a handler wrapped by {@link idempotent} gets. */
export interface ReadRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Reads a node:http request's body as text. */
export async function readRequest(req: IncomingMessage): Promise<ReadRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`),
    headers: req.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

/** Sends a reply on a node:http response. */
export function sendReply(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, reply.headers).end(reply.body);
}

export function headerValue(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

export interface IdempotentOptions extends IdempotencyOptions {
  /** Whose key space a request belongs to (see KeyedRequest.scope). @default () => '' */
  scope?: (request: ReadRequest) => string;
}

/**
 * Wraps a node:http handler that returns its reply, so that its writes are processed
 * once per Idempotency-Key. Reads pass straight through.
 *
 *     http.createServer(idempotent(async (request) => json(201, save(request.body))))
 */
export function idempotent(
  handler: (request: ReadRequest) => Promise<Reply> | Reply,
  { scope = () => '', ...options }: IdempotentOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const idempotency = new Idempotency(options);
  return async (req, res) => {
    try {
      const request = await readRequest(req);
      const reply = WRITE_METHODS.includes(request.method)
        ? await idempotency.run(
            {
              method: request.method,
              path: request.url.pathname + request.url.search,
              key: headerValue(request.headers, 'idempotency-key'),
              accept: headerValue(request.headers, 'accept'),
              body: request.body,
              scope: scope(request),
            },
            () => handler(request),
          )
        : await handler(request);
      sendReply(res, reply);
    } catch (error) {
      console.error(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'about:blank', title: 'Internal Server Error', status: 500 }));
    }
  };
}
