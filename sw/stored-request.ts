import type { Draft, StoredRequest } from './entry.js';
import { laneName } from './lanes.js';
import { DEFAULT_LANE, newIdempotencyKey } from './protocol.js';
import { HEADERS } from '../contract/http.js';

const KEY_HEADER = HEADERS.idempotencyKey.toLowerCase();
const LANE_HEADER = HEADERS.lane.toLowerCase();

/**
 * Reads a page's request into plain data the outbox can keep. The app's own
 * Idempotency-Key is kept; otherwise a new one is made.
 */
export async function toDraft(request: Request, lane: string, madeBy?: string): Promise<Draft> {
  const headers: [string, string][] = [];
  let idempotencyKey: string | undefined;
  request.headers.forEach((value, name) => {
    if (name === KEY_HEADER) idempotencyKey = value;
    else if (name !== LANE_HEADER) headers.push([name, value]);
  });
  return {
    method: request.method,
    url: request.url,
    lane,
    idempotencyKey: idempotencyKey ?? newIdempotencyKey(),
    ...(madeBy ? { madeBy } : {}),
    request: {
      headers,
      body: request.body === null ? null : await request.arrayBuffer(),
      credentials: request.credentials,
      mode: modeFor(request),
      // A form post (a navigation) is `manual`, which hides where its answer redirects to:
      // followed, the outbox can tell the app's post/redirect/get from its sign-in page.
      redirect: request.mode === 'navigate' ? 'follow' : request.redirect,
      referrer: request.referrer,
    },
  };
}

/**
 * Takes the credential headers out of a draft, so that they never reach the store, and
 * returns them (for this worker's memory); the draft keeps their names.
 */
export function takeCredentials(draft: Draft, names: readonly string[]): [string, string][] {
  const taken = draft.request.headers.filter(([name]) => names.includes(name));
  if (taken.length === 0) return taken;
  draft.request.headers = draft.request.headers.filter(([name]) => !names.includes(name));
  draft.request.credentialNames = taken.map(([name]) => name);
  return taken;
}

/** Request headers that make a write conditional on the version the app read (If-Modified-Since applies to reads only). */
export const PRECONDITIONS: ReadonlySet<string> = new Set(['if-match', 'if-none-match', 'if-unmodified-since']);

/** A kept request's Content-Type, if it had one. */
export function contentTypeOf(stored: StoredRequest): string | null {
  return stored.headers.find(([name]) => name === 'content-type')?.[1] ?? null;
}

/** Whether a kept request's body is a JSON Merge Patch (RFC 7396). */
export function isMergePatch(stored: StoredRequest): boolean {
  return /^application\/merge-patch\+json\b/i.test(contentTypeOf(stored) ?? '');
}

/** Who sent a write, and where it stands in that client's order. */
export interface Stamp {
  clientId: string;
  seq: number;
  lane: string;
  /** The user who made it, if one was signed in. */
  user?: string | undefined;
}

/** The parts of an entry a request is built from. */
export interface Sendable {
  method: string;
  url: string;
  idempotencyKey: string;
}

/** Builds the request to send, stamped with the key, the client id, the sequence and the lane. */
export function toRequest(entry: Sendable, stored: StoredRequest, stamp?: Stamp, signal?: AbortSignal): Request {
  const headers = new Headers(stored.headers);
  headers.set(HEADERS.idempotencyKey, entry.idempotencyKey);
  if (stamp) {
    headers.set(HEADERS.clientId, stamp.clientId);
    headers.set(HEADERS.sequence, String(stamp.seq));
    const lane = laneName(stamp.lane);
    if (lane !== DEFAULT_LANE) headers.set(HEADERS.lane, lane);
    if (stamp.user !== undefined) headers.set(HEADERS.user, stamp.user);
  }
  return new Request(entry.url, {
    method: entry.method,
    headers,
    body: stored.body,
    credentials: stored.credentials,
    mode: stored.mode,
    redirect: stored.redirect,
    referrer: stored.referrer,
    signal: signal ?? null,
  });
}

/**
 * In no-cors mode the Headers guard silently drops every header that is not
 * CORS-safelisted, the outbox's own among them. For a same-origin URL, same-origin mode
 * behaves alike and keeps them. (A no-cors write to another origin cannot carry them.)
 */
function modeFor(request: Request): RequestMode {
  // A form post is a navigation, a mode fetch() refuses: sent again, it is a same-origin write.
  if (request.mode === 'navigate') return 'same-origin';
  return request.mode === 'no-cors' && new URL(request.url).origin === location.origin ? 'same-origin' : request.mode;
}

/**
 * A stored request as bytes: a 4-byte length, the JSON of everything but the body, then
 * the body's bytes as they are (no base64: a large upload stays its size).
 */
export function encodeRequest(request: StoredRequest): Uint8Array<ArrayBuffer> {
  const { body, ...rest } = request;
  const head = new TextEncoder().encode(JSON.stringify({ ...rest, hasBody: body !== null }));
  const bytes = new Uint8Array(4 + head.length + (body?.byteLength ?? 0));
  new DataView(bytes.buffer).setUint32(0, head.length);
  bytes.set(head, 4);
  if (body) bytes.set(new Uint8Array(body), 4 + head.length);
  return bytes;
}

export function decodeRequest(bytes: Uint8Array): StoredRequest {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const { hasBody, ...rest } = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as Omit<StoredRequest, 'body'> & { hasBody: boolean };
  return { ...rest, body: hasBody ? bytes.slice(4 + length).buffer : null };
}
