/**
 * Reads that show the user's own waiting writes (option `reads`, decision 0023): a JSON
 * answer, from the cache or the network, with the writes still waiting applied by
 * read-overlay.ts, and headers that say so.
 */
import type { Json } from '../contract/json-merge.js';
import { APPLIED_HEADER, FROM_CACHE_HEADER } from '../contract/http.js';
import type { CollectionsOptions } from './options.js';
import { cancelBody } from './page-answers.js';
import type { PendingWrite } from './commands.js';
import type { ProvisionalIdentities } from './provisional-identities.js';
import { overlay, type WaitingWrite } from './read-overlay.js';

/** At most this many waiting writes are applied to a read (the first, in the order they will be sent). */
export const MAX_OVERLAID_WRITES = 1_000;

export interface OwnWritesContext {
  /** The first `limit` waiting writes of the signed-in user, in order, with their bodies. */
  pending: (limit: number) => Promise<PendingWrite[]>;
  identities: ProvisionalIdentities | undefined;
  options: Pick<CollectionsOptions, 'idMember' | 'urlMember'>;
  log: (...args: unknown[]) => void;
}

/**
 * A JSON read with the waiting writes applied, as the server will apply them. A read from
 * the cache takes every waiting write; one from the network all but those being sent,
 * which it may already contain. Says how many it applied in `Outbox-Applied`; a read no
 * waiting write touches is returned as it came.
 */
export async function withWaitingWrites(request: Request, response: Response, context: OwnWritesContext): Promise<Response> {
  if (!response.ok || !/json/i.test(response.headers.get('Content-Type') ?? '')) return response;
  const fromCache = response.headers.has(FROM_CACHE_HEADER);
  const { identities } = context;
  try {
    const listed = (await context.pending(MAX_OVERLAID_WRITES)).filter((write) => fromCache || write.state !== 'sending').map(toWaitingWrite);
    const waiting = identities ? await identities.known(listed) : listed;
    const read = JSON.parse(await response.clone().text()) as Json;
    const collection = identities?.isCollection(request.url) || Array.isArray(read);
    const { body, applied, deleted } = overlay(read, request.url, waiting, collection, context.options);
    if (applied === 0) return response;
    cancelBody(response);
    const headers = new Headers(response.headers);
    headers.set(APPLIED_HEADER, String(applied));
    headers.delete('Content-Length');
    headers.delete('ETag'); // the representation is no longer the server's
    if (!deleted) return new Response(JSON.stringify(body), { status: response.status, headers });
    const problem = { type: 'about:blank', title: 'Deleted on this device', status: 404, detail: `${request.url} is deleted by a write waiting in the outbox; the server will delete it once the write is sent.` };
    headers.set('Content-Type', 'application/problem+json');
    return new Response(JSON.stringify(problem), { status: 404, headers });
  } catch (error) {
    context.log('could not apply the waiting writes to', request.url, error);
    return response;
  }
}

/** A waiting write as the overlay reads it: its JSON body, if it has one. */
function toWaitingWrite(write: PendingWrite): WaitingWrite {
  let json: Json | undefined;
  if (write.body && /json/i.test(write.contentType ?? '')) {
    try {
      json = JSON.parse(new TextDecoder().decode(write.body)) as Json;
    } catch {
      json = undefined;
    }
  }
  return { method: write.method, url: write.url, json, contentType: write.contentType, ...(write.provisional ? { provisional: write.provisional } : {}) };
}
