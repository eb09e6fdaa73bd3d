import type { StoredRequest } from './entry.js';
import type { Problem } from './protocol.js';
import type { AttemptResult } from './retry-policy.js';
import { toRequest, type Sendable, type Stamp } from './stored-request.js';

/**
 * The largest 4xx JSON body read: enough to tell a "still in flight" 409 from a conflict,
 * and to keep a conflict's current representation for the page to show.
 */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Sends a write once. The timeout covers the wait for the response headers and then
 * aborts the request, so an abandoned attempt does not linger beside its replay.
 */
export async function sendAttempt(
  fetcher: (request: Request) => Promise<Response>,
  entry: Sendable,
  stored: StoredRequest,
  stamp: Stamp,
  timeoutMs: number,
  /** The outbox's timer (its `timer` dependency): tests run it on their own clock. */
  timer: (callback: () => void, delayMs: number) => () => void,
): Promise<AttemptResult> {
  const controller = new AbortController();
  const cancelTimeout = timer(() => controller.abort(), timeoutMs);
  try {
    // The body is left unread: it goes to the waiting page as it is, or is cancelled.
    const response = await fetcher(toRequest(entry, stored, stamp, controller.signal));
    if (response.status < 400 || response.status >= 500) return { kind: 'response', response };
    // A 4xx may be "still in flight" (409), a conflict or a dead letter: what the server said tells which, and why.
    return { kind: 'response', response, ...(await readAnswer(response)) };
  } catch (error) {
    if (controller.signal.aborted) return { kind: 'timeout' };
    return { kind: 'network-error', message: error instanceof Error ? error.message : String(error) };
  } finally {
    cancelTimeout();
  }
}

/**
 * A JSON answer's body and, when it is an object, the problem fields it has (type, title,
 * detail), read from a copy so that the page still gets the body.
 */
async function readAnswer(response: Response): Promise<{ problem?: Problem; json?: unknown }> {
  const type = response.headers.get('Content-Type') ?? '';
  const length = Number(response.headers.get('Content-Length') ?? 0);
  if (!/json/i.test(type) || length > MAX_ANSWER_BYTES) return {};
  try {
    const text = await response.clone().text();
    if (text.length > MAX_ANSWER_BYTES) return {};
    const json: unknown = JSON.parse(text);
    if (typeof json !== 'object' || json === null) return { json };
    const problem: Problem = {};
    for (const field of ['type', 'title', 'detail'] as const) {
      const value = (json as Record<string, unknown>)[field];
      if (typeof value === 'string') problem[field] = value.slice(0, 1_000);
    }
    return { problem, json };
  } catch {
    return {};
  }
}
