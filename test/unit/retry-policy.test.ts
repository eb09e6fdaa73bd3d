import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IN_FLIGHT_PROBLEM_TYPE } from '../../contract/problem-types.js';
import { backoffDelay, decide, inFlightDelay, outageDelay, type AttemptHistory, type AttemptResult, type RetryPolicy } from '../../sw/retry-policy.js';

const policy: RetryPolicy = { baseMs: 1_000, maxMs: 60_000, maxRetryableAnswers: 5 };
const first: AttemptHistory = { retryableResponses: 0, mayBeCommitting: false, waitedMs: 0 };
const NOW = 1_000_000;
const answer = (status: number, headers: Record<string, string> = {}): AttemptResult => ({ kind: 'response', response: new Response(null, { status, headers }) });
const verdictOf = (result: AttemptResult, history = first, random = () => 0.5) => decide(result, history, policy, NOW, random);

test('backoff is exponential, capped, with full jitter', () => {
  assert.equal(backoffDelay(1, policy, () => 0.999_999), 999);
  assert.equal(backoffDelay(4, policy, () => 0.999_999), 7_999);
  assert.equal(backoffDelay(30, policy, () => 0.999_999), 59_999);
  assert.equal(backoffDelay(30, policy, () => 0), 0);
  assert.equal(backoffDelay(3, policy, () => 0.5), 2_000);
});

test('after no answer, the wait is drawn below the time the write has waited, between base and max, whatever the attempts', () => {
  assert.equal(outageDelay(0, policy, () => 0.999_999), 999);
  assert.equal(outageDelay(10_000, policy, () => 0.999_999), 9_999);
  assert.equal(outageDelay(3_600_000, policy, () => 0.999_999), 59_999);
  assert.equal(outageDelay(10_000, policy, () => 0), 0);
  assert.equal(outageDelay(10_000, policy, () => 0.5), 5_000);
});

test('2xx and 3xx settle', () => {
  for (const status of [200, 201, 204, 301, 304, 399]) assert.equal(verdictOf(answer(status)).kind, 'settle', String(status));
});

test('network errors retry without counting against retry.maxRetryableAnswers, waiting at most as long as the write has', () => {
  // Five quick attempts two seconds into an outage: the next is within those two seconds.
  const network = verdictOf({ kind: 'network-error', message: 'Failed to fetch' }, { ...first, waitedMs: 2_000 });
  assert.deepEqual(network, { kind: 'retry', delayMs: 1_000, charged: false, mayBeCommitting: true, error: 'network error: Failed to fetch' });
});

test('a timeout is retried soon, on the in-flight schedule, whatever the write\'s age, and is not charged', () => {
  const timeout = verdictOf({ kind: 'timeout' }, { retryableResponses: 4, mayBeCommitting: true, waitedMs: 86_400_000 });
  assert.deepEqual(timeout, { kind: 'retry', delayMs: 750, charged: false, mayBeCommitting: true, error: 'no answer within timeoutMs; it may still be applied' });
  assert.equal(inFlightDelay(policy, () => 0), 500);
  assert.equal(inFlightDelay({ ...policy, baseMs: 1 }, () => 0.999), 499);
});

test('after an outage of many unanswered tries, the first 5xx backs off from retry.baseMs, not retry.maxMs (decision 0004)', () => {
  const verdict = verdictOf(answer(503), { retryableResponses: 0, mayBeCommitting: true, waitedMs: 3_600_000 }, () => 0.999_999);
  assert.equal(verdict.kind === 'retry' && verdict.delayMs, 999);
  const third = verdictOf(answer(503), { retryableResponses: 2, mayBeCommitting: false, waitedMs: 0 }, () => 0.999_999);
  assert.equal(third.kind === 'retry' && third.delayMs, 3_999);
});

test('408, 425, 429 and 5xx retry and count', () => {
  for (const status of [408, 425, 429, 500, 502, 503, 599]) {
    const verdict = verdictOf(answer(status));
    assert.equal(verdict.kind, 'retry', String(status));
    assert.equal(verdict.kind === 'retry' && verdict.charged, true);
  }
});

test('Retry-After, in seconds or as a date, replaces the backoff', () => {
  const seconds = verdictOf(answer(503, { 'Retry-After': '7' }));
  assert.equal(seconds.kind === 'retry' && seconds.delayMs, 7_000);
  const date = verdictOf(answer(429, { 'Retry-After': new Date(NOW + 90_000).toUTCString() }));
  assert.equal(date.kind === 'retry' && date.delayMs, 90_000);
  const unreadable = verdictOf(answer(503, { 'Retry-After': 'later' }));
  assert.equal(unreadable.kind === 'retry' && unreadable.delayMs, 500);
});

test('other 4xx are final at once: conflicts (412, 428, a 409 not in flight) wait for the app, 401 and 403 for credentials, other refusals are dead letters', () => {
  for (const status of [400, 404, 410, 422]) {
    assert.deepEqual({ ...verdictOf(answer(status)), response: undefined }, { kind: 'dead', code: 'rejected', reason: `HTTP ${status}`, response: undefined });
  }
  for (const status of [409, 412, 428]) {
    assert.deepEqual({ ...verdictOf(answer(status)), response: undefined }, { kind: 'conflict', reason: `HTTP ${status}`, response: undefined });
  }
  for (const status of [401, 403]) {
    assert.deepEqual({ ...verdictOf(answer(status)), response: undefined }, { kind: 'needs-auth', reason: `HTTP ${status}`, response: undefined });
  }
});

const problem409 = (problem?: { type?: string; title?: string }, headers: Record<string, string> = {}): AttemptResult => ({
  kind: 'response',
  response: new Response(null, { status: 409, headers }),
  ...(problem ? { problem } : {}),
});

test('a 409 is a conflict unless it says, or the history says, that the key is still being processed', () => {
  assert.equal(verdictOf(problem409()).kind, 'conflict');
  // sw-outbox/server's problem type, the draft's wording, or an attempt that got no answer.
  for (const result of [problem409({ type: IN_FLIGHT_PROBLEM_TYPE }), problem409({ title: 'A request is outstanding for this Idempotency-Key' })]) {
    const verdict = verdictOf(result);
    assert.equal(verdict.kind, 'retry');
    assert.equal(verdict.kind === 'retry' && verdict.error, 'HTTP 409: an earlier attempt is still being processed');
  }
  assert.equal(verdictOf(problem409(), { ...first, mayBeCommitting: true }).kind, 'retry');
  // A server's own conflict type wins over the history.
  assert.equal(verdictOf(problem409({ type: 'https://api.example/conflict' }), { ...first, mayBeCommitting: true }).kind, 'conflict');
  // So does a stored reply sent again: the earlier attempt is over, and this was its answer.
  assert.equal(verdictOf(problem409({ title: 'Item exists' }, { 'Idempotent-Replayed': '?1' }), { ...first, mayBeCommitting: true }).kind, 'conflict');
});

test('a "still in flight" 409 is retried however often it comes, never charged, never a dead letter, at Retry-After or soon', () => {
  const tired = { retryableResponses: policy.maxRetryableAnswers - 1, mayBeCommitting: true, waitedMs: 3_600_000 };
  const verdict = verdictOf(problem409({ type: IN_FLIGHT_PROBLEM_TYPE }, { 'Retry-After': '1' }), tired);
  assert.deepEqual({ ...verdict, response: undefined }, {
    kind: 'retry', delayMs: 1_000, charged: false, mayBeCommitting: true, error: 'HTTP 409: an earlier attempt is still being processed', response: undefined,
  });
  const noHeader = verdictOf(problem409({ type: IN_FLIGHT_PROBLEM_TYPE }), tired);
  assert.equal(noHeader.kind === 'retry' && noHeader.delayMs, 750);
});

test('the answer that reaches retry.maxRetryableAnswers makes a dead letter', () => {
  const fourth = verdictOf(answer(500), { retryableResponses: 3, mayBeCommitting: false, waitedMs: 0 });
  assert.equal(fourth.kind, 'retry');
  const fifth = verdictOf(answer(500), { retryableResponses: 4, mayBeCommitting: false, waitedMs: 0 });
  assert.equal(fifth.kind, 'dead');
  assert.equal(fifth.kind === 'dead' && fifth.reason, 'gave up after 5 retryable answers, the last HTTP 500');
  assert.equal(fifth.kind === 'dead' && fifth.code, 'gave-up');
});

test('an answer redirected to a sign-in page is no success: the write waits for a session, even with a page waiting; other redirects settle', () => {
  // The page the fetch followed the redirect to: Response's redirected and url are the browser's to set.
  const at = (url: string): AttemptResult => {
    const response = new Response('<h1>Sign in</h1>', { status: 200, headers: { 'Content-Type': 'text/html' } });
    Object.defineProperties(response, { redirected: { value: true }, url: { value: url } });
    return { kind: 'response', response };
  };
  const withPaths = { ...policy, signInPaths: ['/login', '/users/sign_in'] };
  const verdict = decide(at('https://app.test/login?next=%2Fapi%2Fitems'), first, withPaths, 0);
  assert.equal(verdict.kind, 'needs-auth');
  assert.equal(verdict.kind === 'needs-auth' && verdict.signIn, true);
  assert.equal(decide(at('https://sso.example/users/sign_in'), first, withPaths, 0).kind, 'needs-auth', 'a single sign-on page on another origin too');
  assert.equal(decide(at('https://app.test/notes/5'), first, withPaths, 0).kind, 'settle', 'the app’s own post/redirect/get');
  assert.equal(decide(at('https://app.test/login'), first, { ...policy, signInPaths: [] }, 0).kind, 'settle', 'signInPaths [] turns it off');
});
