import type { Reply } from './problem.js';

// What the framework adapters share: turning a framework's request body and reply
// headers into what the core fingerprints and keeps.

/**
 * Headers that describe one transfer or one session, not the reply: a retry gets the
 * rest. Set-Cookie is left out so that no credential is kept at rest with the reply.
 */
const NOT_KEPT = new Set(['connection', 'content-length', 'date', 'keep-alive', 'set-cookie', 'transfer-encoding']);

/** A reply's headers as a framework holds them, less those not kept. */
export function keptHeaders(headers: Iterable<[string, unknown]>): Reply['headers'] {
  const kept: Reply['headers'] = {};
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (value === undefined || NOT_KEPT.has(lower)) continue;
    kept[lower] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return kept;
}

/**
 * The body a body parser left, as the core fingerprints it: bytes and text as they are,
 * parsed data as JSON (the same payload parses, and so serialises, the same way).
 */
export function parsedBody(body: unknown): string | Uint8Array {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return JSON.stringify(body);
}
