import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConflictEntry, DeadEntry, PendingEntry, SendingEntry, StoredRequest } from '../../sw/entry.js';
import { CHANGED_PROBLEM_TYPE, IN_FLIGHT_PROBLEM_TYPE } from '../../contract/problem-types.js';
import type { AttemptResult } from '../../sw/retry-policy.js';
import { answered, cancelled, claimed, discarded, expired, isDue, isExpired, keySpent, resolved, retried, stored, type AnswerContext } from '../../sw/transitions.js';

const draft = { method: 'POST', url: 'https://app.test/api/items', lane: 'default', idempotencyKey: '"k-1"' };
const policy = { baseMs: 1_000, maxMs: 60_000, maxRetryableAnswers: 3 };
const request: StoredRequest = { headers: [['content-type', 'application/json'], ['if-match', '"1"']], body: new TextEncoder().encode('{"name":"Oat milk"}').buffer as ArrayBuffer, credentials: 'same-origin', mode: 'cors', redirect: 'follow', referrer: '' };
const context = (over: Partial<AnswerContext> = {}): AnswerContext => ({ policy, now: 10_000, random: () => 0.5, pageWaiting: false, othersAnswered: false, request, ...over });
const response = (status: number, headers: Record<string, string> = {}): AttemptResult => ({ kind: 'response', response: new Response(null, { status, headers }) });
const types = (events: { type: string }[]) => events.map((event) => event.type);

function sendingEntry(over: Partial<SendingEntry> = {}): SendingEntry {
  return { ...(stored(draft, 1, 0, { owner: 'me', timeoutMs: 10_000 }).entry as SendingEntry), ...over };
}

test('stored: a new write is pending at the tail of its lane, or claimed at once when its lane is free', () => {
  const pending = stored(draft, 7, 1_000);
  assert.deepEqual(pending.entry, {
    ...draft, id: 7, seq: 7, state: 'pending', queue: ['default', 7], createdAt: 1_000, nextAttemptAt: 1_000, waitsFor: 'turn', attempts: 0, retryableResponses: 0, mayBeCommitting: false,
  });
  assert.deepEqual(types(pending.events), ['queued']);

  const claim = stored(draft, 7, 1_000, { owner: 'worker-a', timeoutMs: 5_000 });
  assert.equal(claim.entry.state, 'sending');
  assert.deepEqual(claim.entry.state === 'sending' && [claim.entry.attempts, claim.entry.owner, claim.entry.attemptAt], [1, 'worker-a', 1_000]);
  assert.deepEqual(types(claim.events), ['queued', 'sending']);
  assert.equal(claim.events[1]?.type === 'sending' && claim.events[1].answerBy, 6_000, 'its answer is due by the timeout');
  assert.equal('nextAttemptAt' in claim.entry, false);
});

test('claimed: an attempt is recorded before it starts; claiming an interrupted attempt marks the key as maybe committing', () => {
  const pending = stored(draft, 1, 0).entry as PendingEntry;
  const first = claimed(pending, 'a', 50, 10_000).entry;
  assert.deepEqual([first.state, first.attempts, first.owner, first.mayBeCommitting], ['sending', 1, 'a', false]);
  // Worker "a" died with the attempt under way; worker "b" claims it again.
  const again = claimed(first, 'b', 90, 10_000).entry;
  assert.deepEqual([again.attempts, again.owner, again.mayBeCommitting], [2, 'b', true]);
});

test('answered 2xx: settled, to be deleted, with a sent event', () => {
  const result = answered(sendingEntry(), response(201), context());
  assert.equal(result.entry, null);
  assert.deepEqual(result.events.map((event) => event.type === 'sent' && event.status), [201]);
});

test('answered a conflict: it keeps its place and lane, with the server\'s status, ETag, problem and clashing members; its "theirs" goes beside the request', () => {
  const current = { name: 'Soy milk', done: false };
  const body = { type: CHANGED_PROBLEM_TYPE, title: 'Changed by someone else', detail: 'Reload it.', conflicts: ['/name'], current };
  const answer = new Response(null, { status: 412, headers: { ETag: '"7"', 'Content-Type': 'application/problem+json' } });
  const problem = { type: CHANGED_PROBLEM_TYPE, title: 'Changed by someone else', detail: 'Reload it.' };
  const result = answered(sendingEntry(), { kind: 'response', response: answer, problem, json: body }, context());
  const conflict = result.entry as ConflictEntry;
  assert.equal(conflict.state, 'conflict');
  assert.deepEqual(conflict.queue, ['default', 1], 'still the head of its lane: the writes behind it wait');
  assert.deepEqual(conflict.answer, { status: 412, etag: '"7"', problem, clashes: ['/name'] });
  assert.equal(conflict.mayBeCommitting, false);
  assert.deepEqual(result.request, { ...request, theirs: current });
  assert.deepEqual(result.events.map((event) => event.type === 'conflict' && event.entry.conflict), [conflict.answer]);

  // A plain JSON body is the current representation itself; a problem of another server's is not.
  const plain = answered(sendingEntry(), { kind: 'response', response: new Response(null, { status: 409, headers: { 'Content-Type': 'application/json' } }), json: current }, context());
  assert.deepEqual((plain.request as StoredRequest | undefined)?.theirs, current);
  const foreign = answered(sendingEntry(), { kind: 'response', response: new Response(null, { status: 412, headers: { 'Content-Type': 'application/problem+json' } }), problem: { title: 'Stale' }, json: { title: 'Stale' } }, context());
  assert.equal(foreign.entry?.state, 'conflict');
  assert.equal(foreign.request, undefined, 'no theirs known: the page gets it from a GET');
  // With the page waiting, the page gets the 412 itself, as it would without the outbox.
  assert.equal(answered(sendingEntry(), response(412), context({ pageWaiting: true })).entry, null);
});

test('resolved: keep theirs drops the write; keep mine and a body wait again in place, with a new key and If-Match on the current version', () => {
  const conflict = answered(sendingEntry({ seq: 4, queue: ['default', 4], attempts: 2 }), response(412, { ETag: '"7"' }), context()).entry as ConflictEntry;
  const theirs = resolved(conflict, request, 'theirs', 20_000, undefined);
  assert.equal(theirs.entry, null);
  assert.deepEqual(theirs.events.map((event) => event.type === 'resolved' && event.how), ['theirs']);

  const mine = resolved(conflict, { ...request, theirs: { name: 'Soy milk' } }, 'mine', 20_000, '"7"');
  const pending = mine.entry!;
  assert.deepEqual([pending.state, pending.id, pending.seq, pending.queue, pending.attempts, pending.waitsFor, pending.nextAttemptAt], ['pending', 1, 4, ['default', 4], 0, 'turn', 20_000]);
  assert.notEqual(pending.idempotencyKey, conflict.idempotencyKey, 'the old key has the conflict as its answer');
  assert.equal('answer' in pending || 'lastStatus' in pending, false);
  assert.deepEqual(mine.request, { ...request, headers: [['content-type', 'application/json'], ['if-match', '"7"']] });
  assert.deepEqual(mine.events.map((event) => event.type === 'resolved' && event.how), ['mine']);

  const merged = new TextEncoder().encode('{"name":"Oat and soy milk"}').buffer as ArrayBuffer;
  const body = resolved(conflict, request, 'body', 20_000, undefined, merged);
  const bodyRequest = body.request as StoredRequest | undefined;
  assert.equal(bodyRequest?.body, merged);
  assert.deepEqual(bodyRequest?.headers, [['content-type', 'application/json']], 'no ETag known: sent without a precondition');
});

test('answered a refusal: a dead letter, unless a page waits for it, which then gets the answer itself', () => {
  const dead = answered(sendingEntry(), response(422), context());
  assert.equal(dead.entry?.state, 'dead');
  assert.deepEqual((dead.entry as DeadEntry).reason, { code: 'rejected', detail: 'HTTP 422' });
  assert.deepEqual([(dead.entry as DeadEntry).lastStatus, 'queue' in dead.entry!], [422, false]);
  assert.deepEqual(types(dead.events), ['dead-lettered']);

  const toPage = answered(sendingEntry(), response(422), context({ pageWaiting: true }));
  assert.equal(toPage.entry, null);
  assert.deepEqual(types(toPage.events), ['sent']);
});

test('answered with no answer: waits for the network, the key maybe committing, not charged', () => {
  const result = answered(sendingEntry(), { kind: 'network-error', message: 'Failed to fetch' }, context());
  const entry = result.entry as PendingEntry;
  assert.deepEqual([entry.state, entry.waitsFor, entry.mayBeCommitting, entry.retryableResponses, entry.nextAttemptAt], ['pending', 'network', true, 0, 15_000]); // half the 10 s it has waited
  assert.equal(entry.lastStatus, undefined);
  assert.deepEqual(types(result.events), ['retry-scheduled']);
  assert.equal(isDue(entry, 10_001, false), false);
  assert.equal(isDue(entry, 10_001, true), true, 'a sign that the network is back makes it due');
});

test('answered 503: waits for the server (a forced replay does not cut it short), charged', () => {
  const entry = answered(sendingEntry(), response(503, { 'Retry-After': '30' }), context()).entry as PendingEntry;
  assert.deepEqual([entry.waitsFor, entry.retryableResponses, entry.lastStatus, entry.nextAttemptAt, entry.mayBeCommitting], ['server', 1, 503, 40_000, false]);
  assert.equal(isDue(entry, 10_001, true), false);
});

test('a write whose key may still be committing is never dead-lettered by "still in flight" 409s, however many', () => {
  let entry: SendingEntry = sendingEntry({ mayBeCommitting: true });
  for (let i = 0; i < 20; i++) {
    const result = answered(entry, { kind: 'response', response: new Response(null, { status: 409 }), problem: { type: IN_FLIGHT_PROBLEM_TYPE } }, context());
    assert.equal(result.entry?.state, 'pending', `409 number ${i + 1}`);
    const pending = result.entry as PendingEntry;
    assert.deepEqual([pending.retryableResponses, pending.mayBeCommitting, pending.waitsFor], [0, true, 'server']);
    entry = claimed(pending, 'me', 20_000 + i, 10_000).entry;
  }
  // A plain 409 right after that is still read as in flight: the history says so.
  assert.equal(answered(entry, response(409), context()).entry?.state, 'pending');
});

test('a timeout leaves the write pending, the key maybe committing, retried soon', () => {
  const entry = answered(sendingEntry(), { kind: 'timeout' }, context()).entry as PendingEntry;
  assert.deepEqual([entry.state, entry.mayBeCommitting, entry.nextAttemptAt - 10_000], ['pending', true, 750]);
});

test('the outage rule counts from the first unanswered attempt, not from when the write was made: a slow server answering, or a write that waited behind others, is not a day-long outage', () => {
  // Made at 0, first tried at 600 s (it waited behind others); it times out, is told
  // "still in flight", and then its connection drops.
  const timedOut = answered(sendingEntry({ attemptAt: 600_000 }), { kind: 'timeout' }, context({ now: 601_000 })).entry as PendingEntry;
  assert.equal(timedOut.unansweredSince, 600_000);
  const inFlight = answered(claimed(timedOut, 'me', 602_000, 10_000).entry, { kind: 'response', response: new Response(null, { status: 409, headers: { 'Retry-After': '1' } }), problem: { type: IN_FLIGHT_PROBLEM_TYPE } }, context({ now: 602_000 })).entry as PendingEntry;
  assert.deepEqual([inFlight.unansweredSince, inFlight.nextAttemptAt], [undefined, 603_000], 'answered: its Retry-After');
  const dropped = answered(claimed(inFlight, 'me', 603_000, 10_000).entry, { kind: 'network-error', message: 'NetworkError' }, context({ now: 603_100 })).entry as PendingEntry;
  assert.equal(dropped.nextAttemptAt - 603_100, 500, 'half of retry.baseMs, not half of the 10 minutes since it was made');
  // A real outage still backs off: unanswered for 10 minutes, the ceiling is retry.maxMs.
  const still = answered(claimed(dropped, 'me', 1_203_000, 10_000).entry, { kind: 'network-error', message: 'NetworkError' }, context({ now: 1_203_000 })).entry as PendingEntry;
  assert.deepEqual([still.unansweredSince, still.nextAttemptAt - 1_203_000], [603_000, 30_000]);
});

test('failing alone: no answer while the origin answers other writes is flagged in the entry and its event', () => {
  const result = answered(sendingEntry(), { kind: 'network-error', message: 'Failed to fetch' }, context({ othersAnswered: true }));
  assert.equal((result.entry as PendingEntry).failingAlone, true);
  const [event] = result.events;
  assert.equal(event?.type === 'retry-scheduled' && event.failingAlone, true);
  assert.match(event?.type === 'retry-scheduled' ? event.error : '', /other writes to this origin are answered/);
  // A 503 is an answer: never "failing alone".
  assert.equal((answered(sendingEntry(), response(503), context({ othersAnswered: true })).entry as PendingEntry).failingAlone, undefined);
});

test('expired, cancelled: dead letters with a code; they keep their key', () => {
  const pending = stored(draft, 1, 0).entry as PendingEntry;
  assert.equal(isExpired(pending, 1_001, 1_000), true);
  assert.equal(isExpired(pending, 1_000, 1_000), false);
  const old = expired(pending, 1_001, 1_000).entry;
  assert.deepEqual([old.state, old.reason.code, old.reason.detail], ['dead', 'expired', 'not delivered within maxAgeMs (1000 ms)']);
  const gone = cancelled(pending.id, pending, 5).entry;
  assert.deepEqual([gone.reason.code, keySpent(gone), 'queue' in gone, 'nextAttemptAt' in gone], ['cancelled', false, false, false]);
  assert.deepEqual(types(cancelled(pending.id, pending, 5).events), ['dead-lettered']);
});

test('retried: a dead letter keeps its id and goes to the tail with a new sequence number; a refused one gets a new key, others keep theirs', () => {
  const refused = answered(sendingEntry(), response(400), context()).entry as DeadEntry;
  const again = retried(refused, 9, 20_000);
  assert.deepEqual([again.entry.id, again.entry.seq, again.entry.state, again.entry.queue, again.entry.attempts, again.entry.createdAt], [1, 9, 'pending', ['default', 9], 0, 20_000]);
  assert.notEqual(again.entry.idempotencyKey, draft.idempotencyKey);
  assert.match(again.entry.idempotencyKey, /^"[0-9a-f-]{36}"$/);
  const [event] = again.events;
  assert.deepEqual(event?.type === 'retried' && [event.entry.id, event.entry.seq], [1, 9]);

  const gaveUp = { ...refused, reason: { code: 'gave-up' as const, detail: 'gave up' } };
  assert.equal(retried(gaveUp, 10, 0).entry.idempotencyKey, draft.idempotencyKey);
  const expiredOne = expired(stored(draft, 2, 0).entry as PendingEntry, 99, 1).entry;
  assert.equal(retried(expiredOne, 11, 0).entry.idempotencyKey, draft.idempotencyKey);
});

test('discarded: deleted, with a discarded event', () => {
  const dead = cancelled(1, stored(draft, 1, 0).entry, 1).entry;
  const result = discarded(dead);
  assert.equal(result.entry, null);
  assert.deepEqual(types(result.events), ['discarded']);
});
