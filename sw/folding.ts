import { composeMergePatches, type Json } from '../contract/json-merge.js';
import type { Draft, QueuedEntry, StoredRequest } from './entry.js';
import { isMergePatch, PRECONDITIONS } from './stored-request.js';

/**
 * The write that does what the lane's last waiting write `tail` and then `next` do, when
 * `next` may replace it: both to one URL, `tail` never attempted (it may have been
 * applied), and
 * - a PUT after a PUT: the later representation;
 * - a JSON Merge Patch after one: the two composed (RFC 7396);
 * - a DELETE after a PUT or a PATCH: the DELETE.
 * A POST is never folded. The folded write is `next`, with `tail`'s preconditions (the
 * version the person started from: see PRECONDITIONS), and its own key: a key sent with another payload
 * would get 422. A `next` with a precondition that `tail` lacks is not folded.
 */
export function fold(tail: QueuedEntry, tailRequest: StoredRequest, next: Draft): Draft | undefined {
  if (tail.state !== 'pending' || tail.attempts > 0 || tail.url !== next.url) return undefined;
  const pair = `${tail.method} ${next.method}`;
  let body = next.request.body;
  if (pair === 'PATCH PATCH') {
    if (!isMergePatch(tailRequest) || !isMergePatch(next.request)) return undefined;
    const composed = composeMergePatches(parse(tailRequest.body), parse(next.request.body));
    if (composed === undefined) return undefined;
    body = new TextEncoder().encode(JSON.stringify(composed)).buffer as ArrayBuffer;
  } else if (pair !== 'PUT PUT' && pair !== 'PUT DELETE' && pair !== 'PATCH DELETE') {
    return undefined;
  }
  const preconditions = tailRequest.headers.filter(([name]) => PRECONDITIONS.has(name));
  // A precondition on `next` alone names the version `tail` would have made, which the
  // server never sees once they are one write: such a pair is sent as it is.
  if (preconditions.length === 0 && next.request.headers.some(([name]) => PRECONDITIONS.has(name))) return undefined;
  const headers = [...next.request.headers.filter(([name]) => !PRECONDITIONS.has(name)), ...preconditions];
  return { ...next, request: { ...next.request, headers, body } };
}

function parse(body: ArrayBuffer | null): Json {
  return body === null ? null : (JSON.parse(new TextDecoder().decode(body)) as Json);
}
