/**
 * Every change of an entry's state, as pure functions of the entry, what happened, the
 * options and the clock. Each returns the entry to store (null: delete it) and the
 * status events the change implies. The store persists what these return and the outbox
 * publishes their events, so no path can change an entry and forget to say so.
 */
import type { Json } from '../contract/json-merge.js';
import type { ConflictEntry, DeadEntry, Entry, KeptRequest, LiveEntry, NeedsAuthEntry, NewEntry, PendingEntry, QueuedEntry, SendingEntry, StoredRequest } from './entry.js';
import { OutboxError } from './outbox-error.js';
import { newIdempotencyKey, type ConflictAnswer, type Counts, type EntryMeta, type StatusEvent } from './protocol.js';
import { CHANGED_PROBLEM_TYPE } from '../contract/problem-types.js';
import { decide, type AttemptResult, type RetryPolicy, type Verdict } from './retry-policy.js';
import { PRECONDITIONS } from './stored-request.js';
import type { IdentityRecord } from './identities.js';

export interface Transition<E extends Entry | null = Entry | null> {
  /** The entry as it is to be stored; null when it is to be deleted. */
  entry: E;
  /** The entry's request as it is to be stored, when that changes too (the outbox seals it, with encryption at rest). */
  request?: KeptRequest;
  /** The provisional identity this change settles, to store with it (a create's answer: decision 0022). */
  identity?: IdentityRecord;
  events: StatusEvent[];
}

/** A transition of the entry with this id, to persist. */
export interface Change {
  id: number;
  transition: Transition;
  /** The entry as the transition found it, when the caller holds it: a write's transaction then need not read it. */
  was?: Entry;
}

/** What a store operation changed, in order, and the counts it left: what the outbox dispatches. */
export interface Committed {
  applied: Change[];
  counts: Counts;
}

/** Changes to take effect in the worker: persisted ones with the counts they left, or (no counts) ones that could not be. */
export type Dispatched = Pick<Committed, 'applied'> & Partial<Pick<Committed, 'counts'>>;

/**
 * A write is stored. With `owner`, it is claimed for its first attempt in the same step
 * (its lane was free), so an online write costs one transaction before it is sent.
 */
/** A write claimed for its first attempt as it is stored: by which worker, for how long. */
export type Claim = { owner: string; timeoutMs: number };

export function stored(draft: NewEntry, id: number, now: number, claim?: Claim): Transition<LiveEntry> {
  const pending: PendingEntry = {
    ...draft,
    id,
    seq: id,
    state: 'pending',
    queue: [draft.lane, id],
    createdAt: now,
    nextAttemptAt: now,
    waitsFor: 'turn',
    attempts: 0,
    retryableResponses: 0,
    mayBeCommitting: false,
  };
  const events: StatusEvent[] = [{ type: 'queued', entry: toMeta(pending) }];
  if (claim === undefined) return { entry: pending, events };
  const first = claimed(pending, claim.owner, now, claim.timeoutMs);
  return { entry: first.entry, events: [...events, ...first.events] };
}

/**
 * An attempt starts. It is recorded before the request goes out, so a worker killed
 * mid-send leaves an entry in `sending` whose owner is gone: claimed again, it counts
 * as an attempt that got no answer.
 */
export function claimed(entry: LiveEntry, owner: string, now: number, timeoutMs: number): Transition<SendingEntry> {
  const { nextAttemptAt: _next, waitsFor: _waits, ...rest } = entry as PendingEntry;
  const interrupted = entry.state === 'sending';
  const sending: SendingEntry = {
    ...rest,
    state: 'sending',
    attempts: entry.attempts + 1,
    attemptAt: now,
    owner,
    mayBeCommitting: entry.mayBeCommitting || interrupted,
  };
  return { entry: sending, events: [{ type: 'sending', entry: toMeta(sending), answerBy: now + timeoutMs }] };
}

export interface AnswerContext {
  policy: RetryPolicy;
  now: number;
  random: () => number;
  /** A page is waiting for this write's answer: a final 4xx goes to it, not to the dead letters. */
  pageWaiting: boolean;
  /** Other writes to this entry's origin were answered since its previous attempt. */
  othersAnswered: boolean;
  /** The entry's request, when it was read: a conflict keeps the server's current representation beside it. */
  request?: StoredRequest;
}

/** An attempt is over: the entry is settled (deleted), rescheduled, a conflict or a dead letter. */
export function answered(entry: SendingEntry, result: AttemptResult, context: AnswerContext): Transition & { verdict: Verdict } {
  const { policy, now, random, pageWaiting } = context;
  // How long its attempts have gone unanswered: the outage rule's wait grows with that.
  const waitedMs = now - (entry.unansweredSince ?? entry.attemptAt);
  const verdict = decide(result, { retryableResponses: entry.retryableResponses, mayBeCommitting: entry.mayBeCommitting, waitedMs }, policy, now, random);
  const { attemptAt: _at, owner: _owner, failingAlone: _alone, ...rest } = entry;
  const lastStatus = verdict.response?.status;
  const status = lastStatus === undefined ? {} : { lastStatus };

  const signIn = verdict.kind === 'needs-auth' && verdict.signIn === true;
  if (verdict.kind === 'settle' || (verdict.kind !== 'retry' && pageWaiting && !signIn)) {
    // Settled; or a final 4xx that the waiting page receives itself, as it would without
    // the outbox: the app handles that answer, so it is no dead letter and no conflict.
    // (A sign-in page is no answer to the write: that one is kept, whoever waits.)
    return { verdict, entry: null, events: [{ type: 'sent', entry: toMeta(entry), status: verdict.response.status }] };
  }
  if (verdict.kind === 'needs-auth') {
    // Refused as these credentials: nothing was applied. It keeps `queue`: its lane waits.
    const { lastError: _error, ...kept } = rest;
    const waiting: NeedsAuthEntry = { ...kept, ...status, state: 'needs-auth' };
    return { verdict, entry: waiting, events: [{ type: 'needs-auth', entry: toMeta(waiting) }] };
  }
  if (verdict.kind === 'conflict') {
    // It keeps `queue`: its lane waits behind it. The answer says nothing was applied.
    const { lastError: _error, ...kept } = rest;
    const json = result.kind === 'response' ? result.json : undefined;
    const conflict: ConflictEntry = { ...kept, ...status, mayBeCommitting: false, state: 'conflict', conflictAt: now, answer: conflictAnswer(verdict.response, result, json) };
    const theirs = theirsIn(verdict.response, json);
    return { verdict, entry: conflict, ...(theirs === undefined || !context.request ? {} : { request: { ...context.request, theirs } }), events: [{ type: 'conflict', entry: toMeta(conflict) }] };
  }
  if (verdict.kind === 'dead') {
    const { queue: _queue, lastError: _error, ...kept } = rest;
    const problem = result.kind === 'response' && result.problem && (result.problem.title || result.problem.detail) ? { problem: result.problem } : {};
    const dead: DeadEntry = { ...kept, ...status, mayBeCommitting: false, state: 'dead', deadAt: now, reason: { code: verdict.code, detail: verdict.reason, ...problem } };
    return { verdict, entry: dead, events: [{ type: 'dead-lettered', entry: toMeta(dead), reason: verdict.reason }] };
  }
  const failingAlone = result.kind === 'network-error' && context.othersAnswered;
  const error = failingAlone ? `${verdict.error} (other writes to this origin are answered: check this request, its CORS headers or a proxy)` : verdict.error;
  const pending: PendingEntry = {
    ...rest,
    ...status,
    state: 'pending',
    nextAttemptAt: now + verdict.delayMs,
    // A wait for the network may be cut short by a sign that it is back; one the server
    // asked for (5xx, Retry-After, still processing, too slow to answer) holds.
    waitsFor: result.kind === 'network-error' ? 'network' : 'server',
    retryableResponses: entry.retryableResponses + (verdict.charged ? 1 : 0),
    mayBeCommitting: verdict.mayBeCommitting,
    lastError: error,
  };
  if (result.kind === 'response') delete pending.unansweredSince;
  else {
    pending.unansweredSince = entry.unansweredSince ?? entry.attemptAt;
    delete pending.lastStatus;
  }
  if (failingAlone) pending.failingAlone = true;
  return { verdict, entry: pending, events: [{ type: 'retry-scheduled', entry: toMeta(pending), retryAt: pending.nextAttemptAt, error, failingAlone }] };
}

/** Which lane heads a commit may claim. */
export interface ClaimRules {
  now: number;
  maxAgeMs: number;
  /** At most this many. */
  slots: number;
  /** There is reason to think the network is back: waits for it end now. */
  force: boolean;
  /** This worker's id: it owns what it claims. */
  owner: string;
  /** How long an attempt may take: said in each `sending` event. */
  timeoutMs: number;
  /** Workers known to be gone: their `sending` entries were interrupted and may be claimed. */
  goneOwners: ReadonlySet<string>;
  /** The signed-in user: other users' writes are not claimed. */
  user: string | undefined;
}

/** What becomes of a lane's head when a commit looks at it (see headOf). */
export type HeadFate =
  /** Past maxAgeMs: a dead letter, and the next write of its lane is the head. */
  | { kind: 'expire'; transition: Transition<DeadEntry> }
  /** Due: claimed for an attempt, if a slot is free. */
  | { kind: 'claim' }
  /** It holds its lane: until a user signs in, the app resolves it, credentials come, or `dueAt`. */
  | { kind: 'blocked'; dueAt?: number }
  /** Being sent: by another worker (`foreign`, which may be gone) or by this one. */
  | { kind: 'sending'; foreign: boolean };

/** What a commit does with a lane's head, by the claim rules. */
export function headOf(head: QueuedEntry, rules: ClaimRules): HeadFate {
  if (head.state === 'pending' && isExpired(head, rules.now, rules.maxAgeMs)) return { kind: 'expire', transition: expired(head, rules.now, rules.maxAgeMs) };
  // Another user's waits for them to sign in; a conflict or a write waiting for credentials, for the app: no time makes them due.
  if (!visibleTo(head, rules.user) || head.state === 'conflict' || head.state === 'needs-auth') return { kind: 'blocked' };
  if (head.state === 'sending' && !rules.goneOwners.has(head.owner)) return { kind: 'sending', foreign: head.owner !== rules.owner };
  if (head.state === 'pending' && !isDue(head, rules.now, rules.force)) return { kind: 'blocked', dueAt: head.nextAttemptAt };
  return { kind: 'claim' };
}

/** Whether the signed-in user (`user`) may see an entry: one of theirs, or one made with no user signed in. */
export function visibleTo(entry: Pick<Entry, 'user'>, user: string | undefined): boolean {
  return entry.user === undefined || entry.user === user;
}

/** Whether a pending entry may be sent now. `force`: there is reason to think the network is back. */
export function isDue(entry: PendingEntry, now: number, force: boolean): boolean {
  return entry.nextAttemptAt <= now || (force && entry.waitsFor === 'network');
}

export function isExpired(entry: LiveEntry, now: number, maxAgeMs: number): boolean {
  return now - entry.createdAt > maxAgeMs;
}

/** Not delivered within maxAgeMs. It keeps its key: an earlier attempt may have been applied. */
export function expired(entry: PendingEntry, now: number, maxAgeMs: number): Transition<DeadEntry> {
  return toDead(entry, now, { code: 'expired', detail: `not delivered within maxAgeMs (${maxAgeMs} ms)` });
}

/** The app gave up on a write that is waiting (not one being sent, nor a dead letter already). */
export function cancelled(id: number, entry: Entry | undefined, now: number): Transition<DeadEntry> {
  if (!entry) throw notFound(id);
  if (entry.state === 'dead') throw new OutboxError('not-pending', `sw-outbox entry ${id} is already a dead letter: discard it instead.`);
  if (entry.state !== 'pending') throw new OutboxError('sending', `sw-outbox entry ${id} is being sent right now, so it cannot be cancelled; its answer is on its way.`);
  return toDead(entry, now, { code: 'cancelled', detail: 'cancelled by the app' });
}

/** A dead letter, for the app to retry or discard; anything else cannot be. */
export function deadLetter(id: number, entry: Entry | undefined): DeadEntry {
  if (!entry) throw notFound(id);
  if (entry.state !== 'dead') throw new OutboxError('not-a-dead-letter', `sw-outbox entry ${id} is still waiting; only dead letters can be retried or discarded (cancel it first).`);
  return entry;
}

/** The conflict `seen` as it still is (conflictAt tells), for the app to resolve: another page may have resolved it meanwhile. */
export function stillConflict(id: number, entry: Entry | undefined, seenAt?: number): ConflictEntry {
  if (!entry) throw notFound(id);
  if (entry.state !== 'conflict' || (seenAt !== undefined && entry.conflictAt !== seenAt)) {
    throw new OutboxError('not-a-conflict', `sw-outbox entry ${id} is not in conflict (any more): only a conflict can be resolved. Take ids from the snapshot's conflicts.`);
  }
  return entry;
}

function notFound(id: number): OutboxError {
  return new OutboxError('not-found', `sw-outbox has no entry ${id}. Take ids from a snapshot or a status message.`);
}

/** A waiting write replaced by a later one of its lane (option `fold`): it lives on in `into`. */
export function folded(entry: PendingEntry, into: number): Transition<null> {
  return { entry: null, events: [{ type: 'folded', entry: toMeta(entry), into }] };
}

/** A create never tried, or a write to it never tried, withdrawn by a DELETE of it made on this device (decision 0022). */
export function withdrawn(entry: Entry): Transition<null> {
  return { entry: null, events: [{ type: 'discarded', entry: toMeta(entry) }] };
}

/** A user's write erased at sign-out (`purge`): pages, theirs or not, are told nothing of it. */
export function purged(): Transition<null> {
  return { entry: null, events: [] };
}

/** Another user signed in, or the user signed out (null): not an entry's change, but the outbox's. */
export function userChanged(user: string | null): StatusEvent {
  return { type: 'user-changed', user };
}

/** The browser refused to store: a write sent at once without being kept (`kept: false`), or a claim's bookkeeping left unrecorded. */
export function storageFull(kept: boolean, error: string): StatusEvent {
  return { type: 'storage-full', kept, error };
}

/**
 * The app sends a dead letter again: it goes to the tail of its lane with a new sequence
 * number (a server ordering by sequence sees it as the latest write, which it now is). It
 * keeps its key unless the server refused it (decision 0005).
 */
export function retried(entry: DeadEntry, seq: number, now: number): Transition<PendingEntry> {
  const { deadAt: _at, reason: _reason, lastStatus: _status, ...rest } = entry;
  const pending: PendingEntry = {
    ...rest,
    seq,
    idempotencyKey: keySpent(entry) ? newIdempotencyKey() : entry.idempotencyKey,
    state: 'pending',
    queue: [entry.lane, seq],
    createdAt: now,
    nextAttemptAt: now,
    waitsFor: 'turn',
    attempts: 0,
    retryableResponses: 0,
  };
  return { entry: pending, events: [{ type: 'retried', entry: toMeta(pending) }] };
}

/** The app deletes a dead letter for good. */
export function discarded(entry: DeadEntry): Transition<null> {
  return { entry: null, events: [{ type: 'discarded', entry: toMeta(entry) }] };
}

/**
 * Whether a dead letter's key is spent: the server refused it with a 4xx it keeps for
 * the key, and applied nothing, so a retry needs a new key. Any other dead letter may
 * have been applied, so it keeps its key.
 */
export function keySpent(entry: DeadEntry): boolean {
  return (entry.reason.code === 'rejected' || entry.reason.code === 'conflict') && !entry.mayBeCommitting;
}

function toDead(entry: PendingEntry, now: number, reason: DeadEntry['reason']): Transition<DeadEntry> {
  const { queue: _queue, nextAttemptAt: _next, waitsFor: _waits, failingAlone: _alone, ...rest } = entry;
  const dead: DeadEntry = { ...rest, state: 'dead', deadAt: now, reason };
  return { entry: dead, events: [{ type: 'dead-lettered', entry: toMeta(dead), reason: reason.detail }] };
}

/**
 * A claimed write that must not be sent: a sealed one whose device key the key endpoint
 * no longer gives (`undecryptable`), or one naming a provisional identity the server
 * never gave (`no-identity`, decision 0022). It waits for the app to discard (or retry)
 * it; its lane goes on.
 */
export function unsendable(entry: SendingEntry, now: number, code: 'undecryptable' | 'no-identity', detail: string): Transition<DeadEntry> {
  const { queue: _queue, attemptAt: _at, owner: _owner, failingAlone: _alone, lastError: _error, ...rest } = entry;
  const dead: DeadEntry = { ...rest, state: 'dead', deadAt: now, reason: { code, detail } };
  return { entry: dead, events: [{ type: 'dead-lettered', entry: toMeta(dead), reason: detail }] };
}

/**
 * Credentials changed: a write that waited for them is due again, at the head of its lane.
 * It gets a new key (its refusal may be kept for the old one) unless an earlier attempt
 * may still be committing, which only its own key may ask about.
 */
export function renewed(entry: NeedsAuthEntry, now: number): Transition<PendingEntry> {
  const pending: PendingEntry = {
    ...entry,
    idempotencyKey: entry.mayBeCommitting ? entry.idempotencyKey : newIdempotencyKey(),
    state: 'pending',
    nextAttemptAt: now,
    waitsFor: 'turn',
  };
  return { entry: pending, events: [{ type: 'resumed', entry: toMeta(pending) }] };
}

/**
 * The app resolved a conflict. `theirs`: the write is dropped, superseded by the server's
 * version. Otherwise it waits again at the head of its lane, under the same id and
 * sequence number, with `body` (its own, for `mine`), a precondition on the current
 * version `etag` (none when the server gave no ETag) and a new key: the old one has the
 * conflict as its answer.
 */
export function resolved(entry: ConflictEntry, request: StoredRequest, how: 'mine' | 'theirs' | 'body' | 'merged', now: number, etag: string | undefined, body: ArrayBuffer | null = request.body): Transition<PendingEntry | null> {
  if (how === 'theirs') return { entry: null, events: [{ type: 'resolved', entry: toMeta(entry), how }] };
  const { conflictAt: _at, answer: _answer, lastStatus: _status, ...rest } = entry;
  const pending: PendingEntry = {
    ...rest,
    idempotencyKey: newIdempotencyKey(),
    state: 'pending',
    nextAttemptAt: now,
    waitsFor: 'turn',
    attempts: 0,
    retryableResponses: 0,
    mayBeCommitting: false,
  };
  const { theirs: _theirs, ...kept } = request;
  const headers = kept.headers.filter(([name]) => !PRECONDITIONS.has(name));
  if (etag !== undefined) headers.push(['if-match', etag]);
  return { entry: pending, request: { ...kept, headers, body }, events: [{ type: 'resolved', entry: toMeta(pending), how }] };
}


function conflictAnswer(response: Response, result: AttemptResult, json: unknown): ConflictAnswer {
  const answer: ConflictAnswer = { status: response.status };
  const etag = response.headers.get('ETag');
  if (etag) answer.etag = etag;
  const problem = result.kind === 'response' ? result.problem : undefined;
  if (problem && (problem.type || problem.title || problem.detail)) answer.problem = problem;
  const clashes = (json as { conflicts?: unknown } | undefined)?.conflicts;
  if (Array.isArray(clashes) && clashes.every((pointer) => typeof pointer === 'string')) answer.clashes = clashes.slice(0, 50) as string[];
  return answer;
}

/**
 * The current representation in a conflict's answer: sw-outbox/server's `current`, or the
 * body itself when it is plain JSON (no problem+json).
 */
function theirsIn(response: Response, json: unknown): Json | undefined {
  if (json === undefined) return undefined;
  if (typeof json === 'object' && json !== null && (json as { type?: unknown }).type === CHANGED_PROBLEM_TYPE) return (json as { current?: Json }).current;
  return /problem\+json/i.test(response.headers.get('Content-Type') ?? '') ? undefined : (json as Json);
}

/** An entry as pages may see it: no body, no header values. */
export function toMeta(entry: Entry): EntryMeta {
  const meta: EntryMeta = {
    id: entry.id,
    seq: entry.seq,
    lane: entry.lane,
    method: entry.method,
    url: entry.url,
    state: entry.state,
    attempts: entry.attempts,
    createdAt: entry.createdAt,
  };
  if (entry.state === 'pending') {
    meta.nextAttemptAt = entry.nextAttemptAt;
    meta.waitsFor = entry.waitsFor;
  }
  if (entry.madeBy !== undefined) meta.madeBy = entry.madeBy;
  if (entry.user !== undefined) meta.user = entry.user;
  if (entry.lastStatus !== undefined) meta.lastStatus = entry.lastStatus;
  if (entry.lastError !== undefined) meta.lastError = entry.lastError;
  if (entry.state === 'dead') {
    meta.deadReason = entry.reason.detail;
    meta.deadCode = entry.reason.code;
    if (entry.reason.problem) meta.problem = entry.reason.problem;
  }
  if (entry.state === 'conflict') meta.conflict = entry.answer;
  if (entry.provisional !== undefined) meta.provisional = entry.provisional;
  return meta;
}
