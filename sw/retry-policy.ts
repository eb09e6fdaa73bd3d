import { type DeadReasonCode, type Problem } from './protocol.js';
import { REPLAYED_HEADER } from '../contract/http.js';
import { IN_FLIGHT_PROBLEM_TYPE } from '../contract/problem-types.js';
import { toPathTest } from './route-matcher.js';
import { parseRetryAfter } from './retry-after.js';

/** What one attempt to send an entry came to. */
export type AttemptResult =
  | {
      kind: 'response';
      response: Response;
      /** A problem+json answer's `type`, `title` and `detail`, read for 4xx answers (see sendAttempt). */
      problem?: Problem;
      /** A 4xx answer's JSON body, when it is small enough to keep (a conflict's "theirs" may be in it). */
      json?: unknown;
    }
  | { kind: 'network-error'; message: string }
  | { kind: 'timeout' };

/** What the outbox does with the entry next. Settle, dead and conflict come only from answers. */
export type Verdict =
  | { kind: 'settle'; response: Response }
  | { kind: 'dead'; code: Extract<DeadReasonCode, 'rejected' | 'gave-up'>; reason: string; response: Response }
  /** The resource changed since the app read it: the write waits for the app's resolution. */
  | { kind: 'conflict'; reason: string; response: Response }
  /**
   * Not with these credentials (401, 403), or the session is gone (the answer is the app's
   * sign-in page, `signIn`): the write waits for fresh ones. A sign-in page is never the
   * write's answer, so a waiting page does not get it as one.
   */
  | { kind: 'needs-auth'; reason: string; response: Response; signIn?: true }
  | {
      kind: 'retry';
      delayMs: number;
      /** Whether this attempt counts against retry.maxRetryableAnswers (it got a retryable answer). */
      charged: boolean;
      /**
       * After this attempt the server may still be committing the key (no answer, or
       * "still in flight"): the entry must keep its key and must not become a dead letter.
       */
      mayBeCommitting: boolean;
      error: string;
      response?: Response;
    };

export interface RetryPolicy {
  /** The option group `retry`. */
  baseMs: number;
  maxMs: number;
  maxRetryableAnswers: number;
  /** Same-origin paths of the app's sign-in pages (option `signInPaths`): a write redirected to one was not applied. */
  signInPaths?: readonly string[];
}

/** The entry's history as the decision needs it, before the attempt just made. */
export interface AttemptHistory {
  /** Retryable answers before this attempt. */
  retryableResponses: number;
  /** An earlier attempt got no answer, and nothing since said it is over. */
  mayBeCommitting: boolean;
  /** How long its attempts have gone unanswered, counting the one just made (see Entry.unansweredSince). */
  waitedMs: number;
}

// 408 Request Timeout, 425 Too Early, 429 Too Many Requests: the request may succeed later.
const RETRYABLE_4XX = new Set([408, 425, 429]);
/** The resource changed since the app read it (a 409 that is not "still in flight", a failed or missing precondition). */
const CONFLICT: ReadonlySet<number> = new Set([409, 412, 428]);

/** The shortest wait before asking again about a key the server is still processing. */
export const MIN_IN_FLIGHT_DELAY_MS = 500;

// The draft's example title is "A request is outstanding for this Idempotency-Key";
// servers word it in a few ways.
const IN_FLIGHT_WORDING = /outstanding|being processed|in progress|in flight/i;

/**
 * Exponential backoff with full jitter: a uniform delay between 0 and
 * min(max, base * 2^(answers - 1)). Full jitter spreads the retries of many clients
 * that failed together, so a recovering server is not hit by all of them at once.
 */
export function backoffDelay(answers: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, answers - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The wait after an attempt that got no answer: full jitter below the time its attempts
 * have gone unanswered, kept between retry.baseMs and retry.maxMs (decision 0006).
 */
export function outageDelay(waitedMs: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, Math.max(policy.baseMs, waitedMs));
  return Math.floor(random() * ceiling);
}

/**
 * The wait before asking again about a key that may still be committing (after a timeout,
 * or a "still in flight" 409): short, and it does not grow, since the server is working
 * on it, not failing. Between half and all of max(retry.baseMs, 500 ms).
 */
export function inFlightDelay(policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.max(MIN_IN_FLIGHT_DELAY_MS, policy.baseMs);
  return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Whether a 409 is the Idempotency-Key draft's "a request with this key is still being
 * processed" rather than the app's own conflict. A problem `type` decides when there is
 * one (sw-outbox/server's, or another server's own type for its conflicts); else the
 * draft's wording, else the entry's history: a 409 while an earlier attempt may still be
 * committing is most likely that attempt. A stored reply sent again (`Idempotent-Replayed`,
 * as sw-outbox/server and Stripe mark it) is the earlier attempt's final answer: never
 * "still in flight", whatever the history says.
 */
export function isInFlight409(result: Extract<AttemptResult, { kind: 'response' }>, mayBeCommitting: boolean): boolean {
  if (result.response.headers.has(REPLAYED_HEADER)) return false;
  const { type, title } = result.problem ?? {};
  if (type && type !== 'about:blank') return type === IN_FLIGHT_PROBLEM_TYPE;
  if (title && IN_FLIGHT_WORDING.test(title)) return true;
  return mayBeCommitting;
}

/**
 * Whether a URL is a sign-in page: its path is listed in `signInPaths` (a prefix, or a
 * pattern with `*`), on any origin, since a single sign-on page is often another's.
 */
export function isSignInPage(url: string, signInPaths: readonly string[] = []): boolean {
  if (!url || signInPaths.length === 0) return false;
  const { pathname } = new URL(url);
  return signInPaths.some((path) => toPathTest(path)(pathname));
}

export function decide(
  result: AttemptResult,
  history: AttemptHistory,
  policy: RetryPolicy,
  now: number,
  random: () => number = Math.random,
): Verdict {
  if (result.kind === 'timeout') {
    // The server may be committing it right now: ask again soon, with the same key.
    return { kind: 'retry', delayMs: inFlightDelay(policy, random), charged: false, mayBeCommitting: true, error: 'no answer within timeoutMs; it may still be applied' };
  }
  if (result.kind === 'network-error') {
    // Whether the server is down or the device is offline, nothing says the write is
    // wrong. maxAgeMs bounds these, not retry.maxRetryableAnswers. A reset may come after the server
    // read the request, so the key may be committing.
    return { kind: 'retry', delayMs: outageDelay(history.waitedMs, policy, random), charged: false, mayBeCommitting: true, error: `network error: ${result.message}` };
  }
  const { response } = result;
  const { status } = response;
  // Redirected to the sign-in page: the session ended while the write waited, and the
  // server applied nothing. The final 200 of that page is no success.
  if (response.redirected && isSignInPage(response.url, policy.signInPaths)) {
    return { kind: 'needs-auth', reason: `redirected to the sign-in page ${new URL(response.url).pathname}: the session has ended`, response, signIn: true };
  }
  // An opaque answer (no-cors, or a manual redirect) has status 0 but reached a server.
  const opaque = response.type === 'opaque' || response.type === 'opaqueredirect';
  if (opaque || (status >= 200 && status < 400)) return { kind: 'settle', response };

  if (status === 409 && isInFlight409(result, history.mayBeCommitting)) {
    // However often it comes, and never charged: giving up or re-keying now could apply
    // the write twice once the first attempt commits.
    const retryAfter = parseRetryAfter(response.headers.get('Retry-After'), now);
    return { kind: 'retry', delayMs: retryAfter ?? inFlightDelay(policy, random), charged: false, mayBeCommitting: true, error: 'HTTP 409: an earlier attempt is still being processed', response };
  }
  if (CONFLICT.has(status)) return { kind: 'conflict', reason: `HTTP ${status}`, response };
  if (status === 401 || status === 403) return { kind: 'needs-auth', reason: `HTTP ${status}`, response };
  if (!RETRYABLE_4XX.has(status) && status < 500) return { kind: 'dead', code: 'rejected', reason: `HTTP ${status}`, response };

  const error = `HTTP ${status}`;
  const answers = history.retryableResponses + 1;
  if (answers >= policy.maxRetryableAnswers) {
    return { kind: 'dead', code: 'gave-up', reason: `gave up after ${policy.maxRetryableAnswers} retryable answers, the last ${error}`, response };
  }
  // The exponent counts answers only: tries made during an outage say nothing of the
  // server, so the first 5xx after one starts from retry.baseMs (decision 0004).
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'), now);
  return { kind: 'retry', delayMs: retryAfter ?? backoffDelay(answers, policy, random), charged: true, mayBeCommitting: false, error, response };
}
