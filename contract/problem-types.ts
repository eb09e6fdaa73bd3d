/**
 * The problem types (RFC 9457) that sw-outbox's worker and server tell apart: tag URIs
 * (RFC 4151), names rather than pages to fetch. Neither side owns them: sw/, client/ and
 * server/ import them, and this file imports nothing.
 */

/**
 * The RFC 9457 problem type of the Idempotency-Key draft's 409 "a request with this key
 * is still being processed", as sw-outbox/server sends it. A tag URI (RFC 4151): a name,
 * not a page to fetch.
 */
export const IN_FLIGHT_PROBLEM_TYPE = 'tag:sw-outbox,2026:idempotency-key-in-flight';

/**
 * The problem type of sw-outbox/server's 412 for a write made to a version that has
 * changed (conditional-patch.ts): its `current` member is the current representation,
 * the conflict's "theirs", and `conflicts` the members both sides changed.
 */
export const CHANGED_PROBLEM_TYPE = 'tag:sw-outbox,2026:changed-since';

/**
 * The problem type of sw-outbox/server's 403 for a write whose `Outbox-User` is not the
 * session's user (checkOutboxUser). The outbox holds such a write for its owner.
 */
export const USER_MISMATCH_PROBLEM_TYPE = 'tag:sw-outbox,2026:outbox-user-mismatch';

/**
 * The problem type of the outbox's 507 (with `Outbox-Not-Stored`) for a write the browser
 * would not store and that could not be sent at once either.
 */
export const NOT_STORED_PROBLEM_TYPE = 'tag:sw-outbox,2026:not-stored';
