import { parseRetryAfter } from './retry-after.js';

/** What one attempt to send an entry came to. */
export type AttemptResult =
  | { kind: 'response'; response: Response }
  | { kind: 'network-error'; message: string }
  | { kind: 'timeout' };

/** What the outbox does with the entry next. Settle and dead come only from answers. */
export type Verdict =
  | { kind: 'settle'; response: Response }
  | { kind: 'dead'; reason: string; response: Response }
  | {
      kind: 'retry';
      delayMs: number;
      /** Whether this attempt counts against maxAttempts (it got a retryable answer). */
      charged: boolean;
      error: string;
      response?: Response;
    };

export interface RetryPolicy {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
}

/** The entry's history as the decision needs it, counting the attempt just made. */
export interface AttemptHistory {
  /** Attempts started, including this one. */
  attempts: number;
  /** Retryable answers before this attempt. */
  retryableResponses: number;
  /** The attempt before this one got no answer, so the server may still be working on it. */
  previousUnanswered: boolean;
  /** Time since the write was made. */
  waitedMs: number;
}

// 408 Request Timeout, 425 Too Early, 429 Too Many Requests: the request may succeed later.
const RETRYABLE_4XX = new Set([408, 425, 429]);

/**
 * Exponential backoff with full jitter: a uniform delay between 0 and
 * min(max, base * 2^(attempts - 1)). Full jitter spreads the retries of many clients
 * that failed together, so a recovering server is not hit by all of them at once.
 */
export function backoffDelay(attempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The wait after an attempt that got no answer: full jitter below the time the write has
 * waited so far, kept between retryBaseMs and retryMaxMs. It does not grow with attempts,
 * since many are made early, on hints that the network is back (each new write, the page
 * coming online or into view): counted, a few writes made during a short outage would
 * push the next try a minute away. This way the outbox tries again within the outage's
 * length so far, and the tries still thin out as it goes on (see decision 0006).
 */
export function outageDelay(waitedMs: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.retryMaxMs, Math.max(policy.retryBaseMs, waitedMs));
  return Math.floor(random() * ceiling);
}

/**
 * Whether a dead letter's key is spent: its last attempt was answered with a refusal (a
 * 4xx the outbox does not retry). A server that honours Idempotency-Key keeps that answer
 * for the key and would send it again, and nothing was applied, so a retry needs a new
 * key. Any other dead letter (given up after 5xx, or expired unanswered) may have been
 * applied, so it keeps its key.
 */
export function keySpent(entry: { lastStatus?: number | undefined; unanswered: boolean }): boolean {
  const status = entry.lastStatus;
  return !entry.unanswered && status !== undefined && status >= 400 && status < 500 && !RETRYABLE_4XX.has(status);
}

export function decide(
  result: AttemptResult,
  history: AttemptHistory,
  policy: RetryPolicy,
  now: number,
  random: () => number = Math.random,
): Verdict {
  if (result.kind !== 'response') {
    // No answer: whether the server is down or the device is offline, nothing says the
    // write is wrong. maxAgeMs bounds these, not maxAttempts.
    const error = result.kind === 'timeout' ? 'timed out' : `network error: ${result.message}`;
    return { kind: 'retry', delayMs: outageDelay(history.waitedMs, policy, random), charged: false, error };
  }
  const { response } = result;
  const { status } = response;
  // An opaque answer (no-cors, or a manual redirect) has status 0 but reached a server.
  const opaque = response.type === 'opaque' || response.type === 'opaqueredirect';
  if (opaque || (status >= 200 && status < 400)) return { kind: 'settle', response };

  // A 409 after an unanswered attempt is the Idempotency-Key draft's "a request with this
  // key is still being processed": that earlier attempt may yet commit, so ask again later.
  // Any other 409 is the app's own conflict, which retrying cannot resolve.
  const inFlight = status === 409 && history.previousUnanswered;
  if (!inFlight && !RETRYABLE_4XX.has(status) && status < 500) {
    return { kind: 'dead', reason: `HTTP ${status}`, response };
  }
  const error = inFlight ? 'HTTP 409: an earlier attempt is still in flight' : `HTTP ${status}`;
  if (history.retryableResponses + 1 >= policy.maxAttempts) {
    return { kind: 'dead', reason: `gave up after ${policy.maxAttempts} retryable answers, the last ${error}`, response };
  }
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'), now);
  const delayMs = retryAfter ?? backoffDelay(history.attempts, policy, random);
  return { kind: 'retry', delayMs, charged: true, error, response };
}
