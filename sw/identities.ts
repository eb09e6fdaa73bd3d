/**
 * Provisional identities for creates whose id the server makes (option `collections`,
 * decision 0022). A POST to a collection that is kept for later is answered as the server
 * would answer a create: 201, a Location and the body with an identity of the outbox's
 * own, which no real record can have. Later writes that name that identity wait behind
 * the create in its lane and are rewritten to the real identity just before they are
 * sent, once the create's answer gave it: nothing stored is ever rewritten in place.
 *
 * This file holds the vocabulary, as pure functions; the outbox calls them, and the store
 * keeps one {@link IdentityRecord} per provisional identity.
 */
import type { CollectionsOptions } from './options.js';
import { ENTRY_ID_HEADER, QUEUED_HEADER } from '../contract/http.js';

/** What a provisional id looks like: `outbox-` and a random UUID. No server makes such an id, and no number can be one. */
const PROVISIONAL = /outbox-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** Bodies larger than this are not searched for provisional ids (nor rewritten). */
const MAX_SCANNED_BYTES = 1024 * 1024;


/** An identity the outbox gave a create: its id, and its URL under the collection. */
export interface Provisional {
  id: string;
  url: string;
}

/** The identity the server gave a create. */
export interface RealIdentity {
  /** The id member of its answer (a number stays a number), else the last segment of its URL. */
  id: string | number;
  url: string;
}

/** What the `identities` store keeps of one provisional identity (key: `provisional`). */
export interface IdentityRecord {
  provisional: string;
  /** The provisional URL. */
  url: string;
  /** The create's entry id, and its lane: the writes that name the identity wait there. */
  createdBy: number;
  lane: string;
  /** Device time it was made; records are dropped maxAgeMs after this. */
  at: number;
  /** The server's identity, once the create's answer gave it. */
  real?: RealIdentity;
  /** Why no real identity will come (the create's answer named none). */
  lost?: string;
}

/** The collection tests: a path matches a pattern whole, `*` standing for one segment; a trailing `/` is optional. */
export function collectionTests(collections: readonly string[]): ((pathname: string) => boolean)[] {
  return collections.map((path) => {
    const source = path.replace(/\/$/, '').split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
    const pattern = new RegExp(`^${source}/?$`);
    return (pathname) => pattern.test(pathname);
  });
}

/** A create's provisional identity: a fresh id, and the URL a member of this collection would have. */
export function newProvisional(collectionUrl: string): Provisional {
  const url = new URL(collectionUrl);
  const id = `outbox-${crypto.randomUUID()}`;
  return { id, url: `${url.origin}${url.pathname.replace(/\/$/, '')}/${id}` };
}

/** The provisional ids a text names, each once. */
export function provisionalIdsIn(text: string): string[] {
  return [...new Set(text.match(PROVISIONAL) ?? [])];
}

/** A body as text, when it is text that may name identities (JSON, forms, plain text) and not too large. */
export function bodyText(body: ArrayBuffer | null, contentType: string | null): string | undefined {
  if (!body || body.byteLength === 0 || body.byteLength > MAX_SCANNED_BYTES) return undefined;
  if (contentType !== null && !/json|text\/|x-www-form-urlencoded/i.test(contentType)) return undefined;
  return new TextDecoder().decode(body);
}

/**
 * A URL with every provisional identity replaced: the provisional URL as a prefix becomes
 * the real URL (which may differ in shape: `/api/todos/17`), and a path segment that is
 * a provisional id becomes the real id.
 */
export function rewriteUrl(url: string, known: ReadonlyMap<string, { provisional: Provisional; real: RealIdentity }>): string {
  for (const { provisional, real } of known.values()) {
    if (url === provisional.url || /^[/?#]/.test(url.slice(provisional.url.length, provisional.url.length + 1)) && url.startsWith(provisional.url)) {
      return rewriteUrl(real.url + url.slice(provisional.url.length), known);
    }
  }
  const parsed = new URL(url);
  parsed.pathname = parsed.pathname
    .split('/')
    .map((segment) => {
      const found = known.get(segment);
      return found ? encodeURIComponent(String(found.real.id)) : segment;
    })
    .join('/');
  return parsed.href;
}

/**
 * A JSON value with every provisional identity replaced: a string that is a provisional
 * id becomes the real id (a number when the server's is), one that is a provisional URL
 * (whole, or as a path) the real URL in the same form, and any other string naming one
 * has it replaced in its text.
 */
export function rewriteJson(value: unknown, known: ReadonlyMap<string, { provisional: Provisional; real: RealIdentity }>): unknown {
  if (typeof value === 'string') return rewriteString(value, known);
  if (Array.isArray(value)) return value.map((item) => rewriteJson(item, known));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, rewriteJson(item, known)]));
  return value;
}

function rewriteString(text: string, known: ReadonlyMap<string, { provisional: Provisional; real: RealIdentity }>): string | number {
  const exact = known.get(text);
  if (exact) return exact.real.id;
  let result = text;
  for (const { provisional, real } of known.values()) {
    const path = new URL(provisional.url).pathname;
    const realPath = new URL(real.url);
    result = result.split(provisional.url).join(real.url);
    result = result.split(path).join(realPath.origin === new URL(provisional.url).origin ? realPath.pathname : real.url);
    result = result.split(provisional.id).join(String(real.id));
  }
  return result;
}

/** A text body (a form, plain text) with every provisional URL and id replaced in its text. */
export function rewriteText(text: string, known: ReadonlyMap<string, { provisional: Provisional; real: RealIdentity }>): string {
  return String(rewriteString(text, known));
}

/**
 * The identity a create's answer gives: `Location`, else the URL member of its JSON body,
 * else its id member under the collection; the id from the id member, else the URL's last
 * segment. Undefined when the answer names none.
 */
export function identityFromAnswer(response: Pick<Response, 'headers' | 'url'>, json: unknown, collectionUrl: string, options: Pick<CollectionsOptions, 'idMember' | 'urlMember'>): RealIdentity | undefined {
  const body = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
  const member = body[options.idMember];
  let id = typeof member === 'string' || (typeof member === 'number' && Number.isFinite(member)) ? member : undefined;
  const base = response.url || collectionUrl;
  const location = response.headers.get('Location');
  const urlMember = options.urlMember === undefined ? undefined : body[options.urlMember];
  let url: string | undefined;
  try {
    if (location) url = new URL(location, base).href;
    else if (typeof urlMember === 'string' && urlMember !== '') url = new URL(urlMember, base).href;
  } catch {
    url = undefined;
  }
  if (url === undefined && id !== undefined) url = `${collectionUrl.replace(/[?#].*$/, '').replace(/\/$/, '')}/${encodeURIComponent(String(id))}`;
  if (url === undefined) return undefined;
  if (id === undefined) {
    const last = new URL(url).pathname.split('/').filter(Boolean).at(-1);
    if (last === undefined) return undefined;
    id = decodeURIComponent(last);
  }
  return { id, url };
}

/**
 * What the page gets for a create kept for later: what the server would answer, `201
 * Created` with the provisional URL in `Location`, and the request's JSON object with the
 * identity members added (only those, when the body is no JSON object).
 */
export function provisionalAnswer(body: ArrayBuffer | null, provisional: Provisional, entryId: number, options: Pick<CollectionsOptions, 'idMember' | 'urlMember'>, read = false): Response {
  const sent = jsonObject(body) ?? {};
  const created = { ...sent, [options.idMember]: provisional.id, ...(options.urlMember === undefined ? {} : { [options.urlMember]: provisional.url }) };
  const headers: Record<string, string> = { 'Content-Type': 'application/json', [QUEUED_HEADER]: '?1', [ENTRY_ID_HEADER]: String(entryId) };
  // A read of it (`read`) is a 200 of the same representation: the create is not sent yet.
  if (read) return new Response(JSON.stringify(created), { status: 200, headers });
  return new Response(JSON.stringify(created), { status: 201, statusText: 'Created', headers: { ...headers, Location: provisional.url } });
}

/**
 * What the page gets for an edit of a collection's member (PUT, PATCH with a JSON
 * object) kept for later: `202`, and the request's own JSON, which a model library
 * merges into the record as the no-op it is, rather than the queued body's members.
 */
export function echoAnswer(body: ArrayBuffer | null, entryId: number): Response | undefined {
  const sent = jsonObject(body);
  if (sent === undefined) return undefined;
  return new Response(JSON.stringify(sent), {
    status: 202,
    statusText: 'Accepted',
    headers: { 'Content-Type': 'application/json', [QUEUED_HEADER]: '?1', [ENTRY_ID_HEADER]: String(entryId) },
  });
}

/** A body's JSON, when it is a JSON object. */
export function jsonObject(body: ArrayBuffer | null): Record<string, unknown> | undefined {
  if (!body || body.byteLength === 0 || body.byteLength > MAX_SCANNED_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(body));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
