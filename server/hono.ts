import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { keptHeaders } from './framework-reply.js';
import { Idempotency, type IdempotencyOptions } from './idempotency.js';
import { MAX_BODY_BYTES, WRITE_METHODS } from './node-http.js';
import { whoIs } from './outbox-user.js';
import { problem, type Reply } from './problem.js';
import { HEADERS } from '../contract/http.js';

export interface HonoIdempotencyOptions extends IdempotencyOptions {
  /** Whose key space a request belongs to, e.g. `(c) => c.get('user').id` (see KeyedRequest.scope). @default the `user`, else () => '' */
  scope?: (c: Context) => string;
  /**
   * Who is signed in for a request, e.g. ``(c) => c.get('user')?.id``. With it, a write the outbox made for
   * another user (its `Outbox-User`) is refused, 403 of its own type, and the outbox holds
   * it for its owner; and each user's keys are kept apart (the default `scope`). Set it on
   * any server whose sessions are cookies and whose users may share a device: the browser
   * adds the current session to another user's waiting writes. @default none: no check
   */
  user?: (c: Context) => string | undefined | Promise<string | undefined>;
  /** The largest body read; a longer one is answered 413 (with Hono's bodyLimit). @default 1 MiB */
  maxBodyBytes?: number;
}

/**
 * Hono 4 middleware: writes (POST, PUT, PATCH, DELETE) are processed once per
 * Idempotency-Key, and a retry gets the first reply again.
 *
 *     app.use('/api/*', idempotency({ store }))
 *
 * It reads the body as bytes (within maxBodyBytes); handlers read it again as usual
 * (c.req.json() and the rest share Hono's body cache). Errors reach app.onError as
 * usual; a 5xx reply frees the key.
 */
export function idempotency({ scope, user, maxBodyBytes = MAX_BODY_BYTES, ...options }: HonoIdempotencyOptions = {}): MiddlewareHandler {
  const core = new Idempotency(options);
  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => response(problem(413, 'Request body too large', `${c.req.method} ${c.req.path}: the body is larger than ${maxBodyBytes} bytes. Send less, or raise maxBodyBytes.`)),
  });
  return async (c, next) => {
    if (!WRITE_METHODS.includes(c.req.method)) return next();
    return limit(c, async () => {
      const url = new URL(c.req.url);
      const { reply, claim } = await core.begin({
        method: c.req.method,
        path: url.pathname + url.search,
        key: c.req.header('idempotency-key'),
        accept: c.req.header('accept'),
        body: new Uint8Array(await c.req.arrayBuffer()),
        ...(await whoIs(c, c.req.header(HEADERS.user), user, scope)),
      });
      if (reply) {
        c.res = response(reply);
        return;
      }
      await next();
      if (claim) {
        // Read once and sent as read: cheaper than a clone's two branches of one stream.
        const sent = c.res;
        const body = new Uint8Array(await sent.arrayBuffer());
        await claim.settle({ status: sent.status, headers: keptHeaders(sent.headers.entries()), body });
        c.res = undefined;
        c.res = new Response(body, sent);
      }
    });
  };
}

/** A kept reply as a Response; statuses that have no body get none. */
function response({ status, headers, body }: Reply): Response {
  if ([101, 204, 205, 304].includes(status) || body.length === 0) return new Response(null, { status, headers });
  return new Response(typeof body === 'string' ? body : new Uint8Array(body), { status, headers });
}
