import type { IncomingMessage, ServerResponse } from 'node:http';
import { Idempotency, type IdempotencyOptions } from './idempotency.js';
import { whoIs } from './outbox-user.js';
import { problem, type Reply } from './problem.js';
import { HEADERS, WRITE_METHODS as CONTRACT_WRITE_METHODS } from '../contract/http.js';

/** The methods whose requests change data, and so carry a key. */
export const WRITE_METHODS: readonly string[] = CONTRACT_WRITE_METHODS;

/** A request, read whole: what a handler wrapped by {@link idempotent} gets. */
export interface ReadRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** The body as UTF-8 text. */
  body: string;
  /** The body as sent. */
  bytes: Buffer;
}

/** The default body size limit: 1 MiB, as Fastify's. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A request body longer than the limit; answered 413. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes.`);
  }
}

/** Reads a node:http request whole, refusing a body over `maxBodyBytes` with a BodyTooLargeError. */
export async function readRequest(req: IncomingMessage, maxBodyBytes = MAX_BODY_BYTES): Promise<ReadRequest> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).byteLength;
    if (length > maxBodyBytes) throw new BodyTooLargeError(maxBodyBytes);
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`),
    headers: req.headers,
    body: bytes.toString('utf8'),
    bytes,
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
  /** Whose key space a request belongs to (see KeyedRequest.scope). @default the `user`, else () => '' */
  scope?: (request: ReadRequest) => string;
  /**
   * Who is signed in for a request, e.g. ``(request) => sessions.userOf(request.headers.cookie)``. With it, a write the outbox made for
   * another user (its `Outbox-User`) is refused, 403 of its own type, and the outbox holds
   * it for its owner; and each user's keys are kept apart (the default `scope`). Set it on
   * any server whose sessions are cookies and whose users may share a device: the browser
   * adds the current session to another user's waiting writes. @default none: no check
   */
  user?: (request: ReadRequest) => string | undefined | Promise<string | undefined>;
  /** The largest body read; a longer one is answered 413. @default 1 MiB */
  maxBodyBytes?: number;
}

/**
 * Wraps a node:http handler that returns its reply, so that its writes are processed
 * once per Idempotency-Key. Reads pass straight through.
 *
 *     http.createServer(idempotent(async (request) => json(201, save(request.body))))
 */
export function idempotent(
  handler: (request: ReadRequest) => Promise<Reply> | Reply,
  { scope, user, maxBodyBytes = MAX_BODY_BYTES, ...options }: IdempotentOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const idempotency = new Idempotency(options);
  return async (req, res) => {
    try {
      const request = await readRequest(req, maxBodyBytes);
      const reply = WRITE_METHODS.includes(request.method)
        ? await idempotency.run(
            {
              method: request.method,
              path: request.url.pathname + request.url.search,
              key: headerValue(request.headers, 'idempotency-key'),
              accept: headerValue(request.headers, 'accept'),
              body: request.bytes,
              ...(await whoIs(request, headerValue(request.headers, HEADERS.user), user, scope)),
            },
            () => handler(request),
          )
        : await handler(request);
      sendReply(res, reply);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        // The rest of the body is not read: close the connection rather than drain it.
        return sendReply(res, problem(413, 'Request body too large', `${req.method} ${req.url}: ${error.message} Send less, or raise maxBodyBytes.`, { connection: 'close' }));
      }
      console.error(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'about:blank', title: 'Internal Server Error', status: 500 }));
    }
  };
}
