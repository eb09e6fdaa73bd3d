import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, decide, outageDelay, type AttemptHistory, type AttemptResult, type RetryPolicy } from '../../sw/retry-policy.js';

const policy: RetryPolicy = { retryBaseMs: 1_000, retryMaxMs: 60_000, maxAttempts: 5 };
const first: AttemptHistory = { attempts: 1, retryableResponses: 0, previousUnanswered: false, waitedMs: 0 };
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

test('network errors and timeouts retry without counting against maxAttempts', () => {
  // Five quick attempts two seconds into an outage: the next is within those two seconds.
  const network = verdictOf({ kind: 'network-error', message: 'Failed to fetch' }, { ...first, attempts: 5, waitedMs: 2_000 });
  assert.deepEqual(network, { kind: 'retry', delayMs: 1_000, charged: false, error: 'network error: Failed to fetch' });
  const timeout = verdictOf({ kind: 'timeout' }, { attempts: 99, retryableResponses: 4, previousUnanswered: true, waitedMs: 86_400_000 });
  assert.deepEqual(timeout, { kind: 'retry', delayMs: 30_000, charged: false, error: 'timed out' });
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

test('other 4xx are dead letters at once', () => {
  for (const status of [400, 401, 403, 404, 410, 412, 422]) {
    assert.deepEqual(
      { ...verdictOf(answer(status)), response: undefined },
      { kind: 'dead', reason: `HTTP ${status}`, response: undefined },
    );
  }
});

test('409 is a conflict, unless an earlier attempt got no answer and may still be in flight', () => {
  assert.equal(verdictOf(answer(409)).kind, 'dead');
  const inFlight = verdictOf(answer(409), { attempts: 2, retryableResponses: 0, previousUnanswered: true, waitedMs: 0 });
  assert.equal(inFlight.kind, 'retry');
  assert.equal(inFlight.kind === 'retry' && inFlight.error, 'HTTP 409: an earlier attempt is still in flight');
});

test('the answer that reaches maxAttempts makes a dead letter', () => {
  const fourth = verdictOf(answer(500), { attempts: 9, retryableResponses: 3, previousUnanswered: false, waitedMs: 0 });
  assert.equal(fourth.kind, 'retry');
  const fifth = verdictOf(answer(500), { attempts: 10, retryableResponses: 4, previousUnanswered: false, waitedMs: 0 });
  assert.equal(fifth.kind, 'dead');
  assert.equal(fifth.kind === 'dead' && fifth.reason, 'gave up after 5 retryable answers, the last HTTP 500');
});
