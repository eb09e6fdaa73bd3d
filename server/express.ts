import type { IncomingMessage, ServerResponse } from 'node:http';
import { keptHeaders, parsedBody } from './framework-reply.js';
import { Idempotency, type Claim, type IdempotencyOptions } from './idempotency.js';
import { headerValue, sendReply, WRITE_METHODS } from './node-http.js';
import { whoIs } from './outbox-user.js';
import { HEADERS } from '../contract/http.js';

/** The parts of an Express request the middleware reads (so that @types/express is not needed). */
export interface ExpressRequest extends IncomingMessage {
  /** Left by a body parser (express.json(), express.text(), express.raw()) placed before. */
  body?: unknown;
  originalUrl: string;
}

export interface ExpressIdempotencyOptions extends IdempotencyOptions {
  /** Whose key space a request belongs to, e.g. `(req) => req.user.id` (see KeyedRequest.scope). @default the `user`, else () => '' */
  scope?: (req: ExpressRequest) => string;
  /**
   * Who is signed in for a request, e.g. ``(req) => req.user?.id``. With it, a write the outbox made for
   * another user (its `Outbox-User`) is refused, 403 of its own type, and the outbox holds
   * it for its owner; and each user's keys are kept apart (the default `scope`). Set it on
   * any server whose sessions are cookies and whose users may share a device: the browser
   * adds the current session to another user's waiting writes. @default none: no check
   */
  user?: (req: ExpressRequest) => string | undefined | Promise<string | undefined>;
}

/**
 * Express 5 middleware: writes (POST, PUT, PATCH, DELETE) are processed once per
 * Idempotency-Key, and a retry gets the first reply again. Place it after the body
 * parsers, which also set the body size limit:
 *
 *     app.use(express.json(), idempotency({ store }))
 *
 * Errors of the app's routes reach its error handlers as usual; a 5xx reply frees the key.
 */
export function idempotency({ scope, user, ...options }: ExpressIdempotencyOptions = {}) {
  const core = new Idempotency(options);
  return async (req: ExpressRequest, res: ServerResponse, next: (error?: unknown) => void): Promise<void> => {
    if (!WRITE_METHODS.includes(req.method ?? '')) return next();
    if (req.body === undefined && hasBody(req)) {
      return next(new TypeError(`sw-outbox idempotency(): ${req.method} ${req.originalUrl} has a body (${req.headers['content-type'] ?? 'no content type'}) that no body parser read, so it cannot tell one payload from another. Put a parser for it before idempotency(): express.json(), express.text() or express.raw({ type: '*/*' }).`));
    }
    try {
      const { reply, claim } = await core.begin({
        method: req.method ?? 'POST',
        path: req.originalUrl,
        key: headerValue(req.headers, 'idempotency-key'),
        accept: headerValue(req.headers, 'accept'),
        body: parsedBody(req.body),
        ...(await whoIs(req, headerValue(req.headers, HEADERS.user), user, scope)),
      });
      if (reply) return sendReply(res, reply);
      if (claim) keepReply(res, claim);
    } catch (error) {
      return next(error);
    }
    next();
  };
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Copies what the route sends, and settles the claim with it before the reply's last
 * byte goes: a client that has its answer finds it kept when it retries.
 */
function keepReply(res: ServerResponse, claim: Claim): void {
  const chunks: Buffer[] = [];
  const { write, end } = res;
  const copy = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    copy(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    copy(chunk, rest[0]);
    res.write = write;
    res.end = end;
    const finish = () => (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    claim.settle({ status: res.statusCode, headers: keptHeaders(Object.entries(res.getHeaders())), body: Buffer.concat(chunks) }).then(finish, (error: unknown) => {
      // The write is done: its reply still goes, or the client would retry it. Until the
      // lease ends, a retry gets 409; after that, it is processed again.
      console.error('sw-outbox idempotency(): the reply could not be kept', error);
      finish();
    });
    return this;
  } as ServerResponse['end'];
}
