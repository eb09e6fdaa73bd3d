/**
 * The two sides of a conflict as a page is shown them, and the body a resolution sends:
 * "ours" is the write's own body, "theirs" the server's current representation, from the
 * conflict's answer or, when that had none, a GET of the same URL.
 */
import { applyMergePatch, mergePatchBetween, threeWayMerge, type Json } from '../contract/json-merge.js';
import type { StoredRequest } from './entry.js';
import { contentTypeOf, isMergePatch } from './stored-request.js';
import { OutboxError } from './outbox-error.js';
import type { Resolution } from './protocol.js';

/** What a GET of the write's URL said of the current version. */
export interface Current {
  etag?: string;
  body?: Json;
}

// Headers of the write that describe its body or make it conditional: a GET sends none of them.
const NOT_FOR_GET = /^(content-|if-|outbox-|idempotency-key$)/;

/**
 * GETs the write's URL with the write's credentials and its other headers (an
 * Authorization, say), for the current version's ETag and representation. Nothing on
 * failure: the page then has no "theirs", and a resolution goes without a precondition.
 */
export async function fetchCurrent(fetcher: (request: Request) => Promise<Response>, url: string, stored: StoredRequest): Promise<Current> {
  const headers = new Headers(stored.headers.filter(([name]) => !NOT_FOR_GET.test(name)));
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  try {
    const response = await fetcher(new Request(url, { headers, credentials: stored.credentials, mode: stored.mode, referrer: stored.referrer, cache: 'no-store' }));
    if (!response.ok) {
      await response.body?.cancel();
      return {};
    }
    const etag = response.headers.get('ETag') ?? undefined;
    const body = /json/i.test(response.headers.get('Content-Type') ?? '') ? ((await response.json()) as Json) : undefined;
    return { ...(etag ? { etag } : {}), ...(body === undefined ? {} : { body }) };
  } catch {
    return {};
  }
}

/** The write's body as a page can show it: parsed when it is JSON, else text; null without a body. */
export function oursOf(stored: StoredRequest): unknown {
  if (stored.body === null) return null;
  const text = new TextDecoder().decode(stored.body);
  if (!/json/i.test(contentTypeOf(stored) ?? '')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * A three-way merge of a conflict (the `merge` policy): the write's JSON against the
 * server's current representation, from the version the write was made to (`base`). A
 * PUT sends the merged document; a JSON Merge Patch sends the patch from theirs to the
 * merge (a diff still: the members the write changes, or arrays merged by id). `clashes`: the members
 * both sides changed differently. Undefined when there is nothing to merge from: no base,
 * or a body that is not JSON (or a PATCH of another kind).
 */
export function mergeConflict(method: string, stored: StoredRequest, theirs: Json, idKey?: string): { body: Json } | { clashes: string[] } | undefined {
  const type = contentTypeOf(stored) ?? '';
  if (stored.base === undefined || !/json/i.test(type)) return undefined;
  const patch = method === 'PATCH' && isMergePatch(stored);
  if (method === 'PATCH' && !patch) return undefined;
  let ours: Json;
  try {
    ours = JSON.parse(new TextDecoder().decode(stored.body ?? new ArrayBuffer(0))) as Json;
  } catch {
    return undefined;
  }
  const result = threeWayMerge(stored.base, patch ? applyMergePatch(stored.base, ours) : ours, theirs, idKey === undefined ? {} : { idKey });
  if (result.conflicts.length > 0) return { clashes: result.conflicts };
  return { body: patch ? mergePatchBetween(theirs, result.merged as Json) : (result.merged as Json) };
}


/**
 * Checks a resolution a page or hook gave and returns how it resolves and the body it
 * sends (undefined: the write's own). Throws `invalid-resolution`, naming what is wrong.
 */
export function readResolution(resolution: Resolution): { how: 'mine' | 'theirs' | 'body'; body?: ArrayBuffer } {
  const given = typeof resolution === 'object' && resolution !== null ? Object.keys(resolution) : [];
  if (given.length !== 1 || !['keep', 'body', 'json'].includes(given[0]!)) {
    throw invalid(`${JSON.stringify(resolution)} is not one`);
  }
  if ('keep' in resolution) {
    const keep: unknown = resolution.keep;
    if (keep !== 'mine' && keep !== 'theirs') throw invalid(`keep must be "mine" or "theirs", not ${JSON.stringify(keep)}`);
    return { how: keep };
  }
  if ('json' in resolution) {
    const text = JSON.stringify(resolution.json) as string | undefined;
    if (text === undefined) throw invalid('json must be a JSON value (an object, array, string, number, boolean or null)');
    return { how: 'body', body: encode(text) };
  }
  const { body } = resolution;
  if (typeof body === 'string') return { how: 'body', body: encode(body) };
  if (body instanceof ArrayBuffer) return { how: 'body', body: body.slice(0) };
  if (ArrayBuffer.isView(body)) return { how: 'body', body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice().buffer };
  throw invalid('body must be a string, an ArrayBuffer or a typed array (use { json } for a value to send as JSON)');
}

export function encode(text: string): ArrayBuffer {
  return new TextEncoder().encode(text).buffer as ArrayBuffer;
}

function invalid(problem: string): OutboxError {
  return new OutboxError('invalid-resolution', `sw-outbox: a resolution is { keep: "mine" }, { keep: "theirs" }, { body } or { json }; ${problem}.`);
}
