/**
 * The HTTP contract between the outbox (worker and page) and a server: the headers it
 * stamps and reads, and the methods it counts as writes (its problem types: problem-types.ts).
 * Neither side owns it: sw/, client/ and server/ import it, and it imports nothing.
 */

/** The methods whose requests change data: the outbox keeps them, the server's middleware keys them. */
export const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type WriteMethod = (typeof WRITE_METHODS)[number];

/** Request headers the worker stamps on every write it handles. */
export const HEADERS = {
  /** IETF httpapi Idempotency-Key: an sf-string, the same on every replay. */
  idempotencyKey: 'Idempotency-Key',
  /** Stable id of this browser profile's outbox (a UUID). */
  clientId: 'Outbox-Client-Id',
  /** Per-client monotonic sequence number: the order the app made its writes in. */
  sequence: 'Outbox-Sequence',
  /**
   * The write's ordering lane. Set by the app to put a write in a lane; stamped by the
   * outbox on every write outside the default lane, so that a server ordering by
   * sequence orders per (client, lane).
   */
  lane: 'Outbox-Lane',
  /** The user who made the write (outbox.signIn), on writes made while one was signed in. */
  user: 'Outbox-User',
} as const;

/** On a read answered from the outbox's caches: `?1` (option `reads`). */
export const FROM_CACHE_HEADER = 'Outbox-From-Cache';
/** When the cached copy of a read was stored, as an HTTP date; on every cached copy. */
export const CACHED_AT_HEADER = 'Outbox-Cached-At';
/** On a read the outbox applied this user's waiting writes to: how many (decision 0023). */
export const APPLIED_HEADER = 'Outbox-Applied';

/**
 * On the outbox's `204` to a DELETE of a record whose create was never sent (option
 * `collections`): the create and the writes to it were withdrawn, and nothing is sent.
 */
export const WITHDRAWN_HEADER = 'Outbox-Withdrawn';

/** On an answer the outbox made up for a write it kept, as a server would answer it (option `collections`): the entry's id. */
export const ENTRY_ID_HEADER = 'Outbox-Entry-Id';

/** Response header set on the outbox's own 202 answer. */
export const QUEUED_HEADER = 'Outbox-Queued';

/**
 * Response header (`?1`) on the outbox's answer to a write the browser would not store
 * (quota, private mode, storage blocked) and that could not be sent at once either: a 507
 * whose problem type is `NOT_STORED_PROBLEM_TYPE` (problem-types.ts). Nothing of the write was kept.
 */
export const NOT_STORED_HEADER = 'Outbox-Not-Stored';
/**
 * The response header a server sets on a stored reply it sends again for a key it has
 * answered (`?1`), as sw-outbox/server and Stripe do: the outbox reads such a 409 as the
 * earlier attempt's final answer, never "still in flight". Lower case, as Node gives
 * header names; header names match whatever their case.
 */
export const REPLAYED_HEADER = 'idempotent-replayed';
