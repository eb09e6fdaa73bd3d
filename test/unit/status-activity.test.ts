import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activityAfter, activityOf, IDLE, type Activity } from '../../client/status-activity.js';
import type { Snapshot } from '../../sw/commands.js';
import { PROTOCOL_NAME, PROTOCOL_VERSION, type EntryMeta, type StatusEvent, type StatusMessage } from '../../sw/protocol.js';

const entry = (id: number, more: Partial<EntryMeta> = {}) => ({ id, method: 'POST', url: 'https://app.test/api/items', lane: 'default', seq: id, state: 'pending', attempts: 0, createdAt: 0, ...more }) as EntryMeta;
const message = (event: StatusEvent): StatusMessage => ({ protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, at: 0, counts: { pending: 1, deadLetters: 0, conflicts: 0 }, ...event });
const fold = (...events: StatusEvent[]): Activity => events.map(message).reduce(activityAfter, IDLE);

test('<outbox-status> activity: sending, a retry the server asked for, the session ending, then drained: idle again', () => {
  const one = entry(1);
  assert.equal(fold({ type: 'sending', entry: one, answerBy: 10 }).sending, one);
  const waiting = fold({ type: 'sending', entry: one, answerBy: 10 }, { type: 'retry-scheduled', entry: entry(1, { waitsFor: 'server' }), retryAt: 5_000, error: 'HTTP 503', failingAlone: false });
  assert.deepEqual(waiting, { sending: undefined, lastError: 'HTTP 503', retryAt: 5_000, serverWait: true, needsAuth: false });
  const signedOut = activityAfter(waiting, message({ type: 'needs-auth', entry: one }));
  assert.equal(signedOut.needsAuth, true);
  assert.equal(activityAfter(signedOut, message({ type: 'resumed', entry: one })).needsAuth, false);
  assert.deepEqual(activityAfter(signedOut, message({ type: 'drained' })), IDLE);
});

test('<outbox-status> activity: a write leaving as a dead letter or a conflict is no longer being sent; a full disk is said', () => {
  for (const type of ['dead-lettered', 'conflict', 'sent'] as const) {
    const event = type === 'dead-lettered' ? { type, entry: entry(1), reason: 'HTTP 422' } : type === 'sent' ? { type, entry: entry(1), status: 201 } : { type, entry: entry(1) };
    assert.equal(fold({ type: 'sending', entry: entry(1), answerBy: 10 }, event).sending, undefined, type);
  }
  assert.match(fold({ type: 'storage-full', kept: false, error: 'QuotaExceededError' }).lastError ?? '', /not protected/);
  assert.deepEqual(fold({ type: 'queued', entry: entry(2) }), IDLE);
});

test('<outbox-status> activity from a snapshot: the next retry only while writes wait after an error; a server wait only while it lasts', () => {
  const snapshot = (pending: number, lastError: string | null, entries: EntryMeta[]) => ({ counts: { pending, deadLetters: 0, conflicts: 0 }, lastError, nextAttemptAt: 9_000, lanes: [], entries }) as unknown as Snapshot;
  const sending = entry(3);
  assert.deepEqual(activityOf(snapshot(1, 'HTTP 503', [entry(1, { waitsFor: 'server', nextAttemptAt: 9_000 })]), sending, 1_000), { sending, lastError: 'HTTP 503', retryAt: 9_000, serverWait: true, needsAuth: false });
  assert.equal(activityOf(snapshot(1, 'HTTP 503', [entry(1, { waitsFor: 'server', nextAttemptAt: 9_000 })]), undefined, 10_000).serverWait, false);
  assert.equal(activityOf(snapshot(0, 'HTTP 503', []), undefined, 1_000).retryAt, 0);
});
