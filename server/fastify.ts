import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { keptHeaders, parsedBody } from './framework-reply.js';
import { Idempotency, type Claim, type IdempotencyOptions } from './idempotency.js';
import { headerValue, WRITE_METHODS } from './node-http.js';
import { whoIs } from './outbox-user.js';
import { HEADERS } from '../contract/http.js';

export interface FastifyIdempotencyOptions extends IdempotencyOptions {
  /** Whose key space a request belongs to, e.g. `(request) => request.user.id` (see KeyedRequest.scope). @default the `user`, else () => '' */
  scope?: (request: FastifyRequest) => string;
  /**
   * Who is signed in for a request, e.g. ``(request) => request.user?.id``. With it, a write the outbox made for
   * another user (its `Outbox-User`) is refused, 403 of its own type, and the outbox holds
   * it for its owner; and each user's keys are kept apart (the default `scope`). Set it on
   * any server whose sessions are cookies and whose users may share a device: the browser
   * adds the current session to another user's waiting writes. @default none: no check
   */
  user?: (request: FastifyRequest) => string | undefined | Promise<string | undefined>;
}

/**
 * A Fastify 5 plugin: writes (POST, PUT, PATCH, DELETE) are processed once per
 * Idempotency-Key, and a retry gets the first reply again. It applies to the routes
 * registered after it, in the scope it is registered in:
 *
 *     await app.register(idempotency, { store })
 *
 * The key is claimed once the body is parsed and validated (Fastify's bodyLimit and
 * schemas answer first, and claim nothing); the reply is kept as it is sent, error
 * handler replies included; a 5xx frees the key.
 */
export const idempotency: FastifyPluginAsync<FastifyIdempotencyOptions> = async (fastify, { scope, user, ...options }) => {
  const core = new Idempotency(options);
  const claims = new WeakMap<FastifyRequest, Claim>();

  fastify.addHook('preHandler', async (request, reply) => {
    if (!WRITE_METHODS.includes(request.method)) return;
    const admission = await core.begin({
      method: request.method,
      path: request.url,
      key: headerValue(request.headers, 'idempotency-key'),
      accept: headerValue(request.headers, 'accept'),
      body: parsedBody(request.body),
      ...(await whoIs(request, headerValue(request.headers, HEADERS.user), user, scope)),
    });
    if (admission.reply) return reply.code(admission.reply.status).headers(admission.reply.headers).send(admission.reply.body);
    if (admission.claim) claims.set(request, admission.claim);
  });

  fastify.addHook('onSend', async (request, reply, payload) => {
    const claim = claims.get(request);
    if (!claim) return payload;
    claims.delete(request);
    const body = await bytes(payload);
    try {
      await claim.settle({ status: reply.statusCode, headers: keptHeaders(Object.entries(reply.getHeaders())), body });
    } catch (error) {
      // The write is done: its reply still goes, or the client would retry it.
      request.log.error({ err: error }, 'sw-outbox idempotency: the reply could not be kept');
    }
    return body;
  });
};

// Fastify's documented way for a plugin to add its hooks to the scope that registers it
// (what the fastify-plugin package does), rather than to a scope of its own.
Object.assign(idempotency, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'sw-outbox-idempotency' });

/** A payload as onSend gets it (text, bytes, a stream or nothing), read whole. */
async function bytes(payload: unknown): Promise<string | Buffer> {
  if (payload === null || payload === undefined) return '';
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of payload) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }
  return Buffer.from(payload as Uint8Array);
}
