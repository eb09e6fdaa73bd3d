import type { EntryDraft } from './outbox-store.js';
import { HEADERS, newIdempotencyKey } from './protocol.js';

const KEY_HEADER = HEADERS.idempotencyKey.toLowerCase();

/**
 * Reads a page's request into plain data the outbox can keep. The app's own
 * Idempotency-Key is kept; otherwise a new one is made.
 */
export async function toDraft(request: Request): Promise<EntryDraft> {
  const headers: [string, string][] = [];
  let idempotencyKey: string | undefined;
  request.headers.forEach((value, name) => {
    if (name === KEY_HEADER) idempotencyKey = value;
    else headers.push([name, value]);
  });
  return {
    method: request.method,
    url: request.url,
    headers,
    body: request.body === null ? null : await request.arrayBuffer(),
    credentials: request.credentials,
    mode: modeFor(request),
    redirect: request.redirect,
    referrer: request.referrer,
    idempotencyKey: idempotencyKey ?? newIdempotencyKey(),
  };
}

/** Who sent a write, and where it stands in that client's order. */
export interface Stamp {
  clientId: string;
  seq: number;
}

/** Builds the request to send, stamped with the key, the client id and the sequence. */
export function toRequest(entry: EntryDraft, stamp?: Stamp, signal?: AbortSignal): Request {
  const headers = new Headers(entry.headers);
  headers.set(HEADERS.idempotencyKey, entry.idempotencyKey);
  if (stamp) {
    headers.set(HEADERS.clientId, stamp.clientId);
    headers.set(HEADERS.sequence, String(stamp.seq));
  }
  return new Request(entry.url, {
    method: entry.method,
    headers,
    body: entry.body,
    credentials: entry.credentials,
    mode: entry.mode,
    redirect: entry.redirect,
    referrer: entry.referrer,
    signal: signal ?? null,
  });
}

/**
 * In no-cors mode the Headers guard silently drops every header that is not
 * CORS-safelisted, the outbox's own among them. For a same-origin URL, same-origin mode
 * behaves alike and keeps them. (A no-cors write to another origin cannot carry them.)
 */
function modeFor(request: Request): RequestMode {
  return request.mode === 'no-cors' && new URL(request.url).origin === location.origin ? 'same-origin' : request.mode;
}
