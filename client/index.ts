export { registerOutbox, DEFAULT_SCRIPT_URL } from './register-outbox.js';
export type { RegisterOptions } from './register-outbox.js';
export { OutboxClient } from './outbox-client.js';
export type { Listener, TableRow } from './outbox-client.js';
export { OutboxError } from '../sw/outbox-error.js';
export type { OutboxErrorCode } from '../sw/outbox-error.js';
export type { OutboxOptions, OutboxOptionsInput } from '../sw/options.js';
// The page↔worker protocol's names and message types, and the HTTP contract: what an app
// reads in status messages, snapshots and answers. Its internals (message guards, the
// command shapes) are not part of the API.
export { CHANNEL_NAME, DEFAULT_LANE, PROTOCOL_NAME, PROTOCOL_VERSION, SYNC_TAG } from '../sw/protocol.js';
export { DEFAULT_SNAPSHOT_LIMIT } from '../sw/commands.js';
export type { ChannelMessage, ConfigErrorMessage, ConflictAnswer, ConflictDetails, ConflictPolicy, Counts, DeadReasonCode, EntryMeta, EntryState, LaneMeta, Problem, QueuedBody, Resolution, StatusEvent, StatusMessage } from '../sw/protocol.js';
export type { CredentialsRequest, PendingWrite, SignOutPending, SignOutResult, Snapshot, StorageState } from '../sw/commands.js';
export { APPLIED_HEADER, CACHED_AT_HEADER, ENTRY_ID_HEADER, FROM_CACHE_HEADER, HEADERS, NOT_STORED_HEADER, QUEUED_HEADER, WITHDRAWN_HEADER, WRITE_METHODS } from '../contract/http.js';
export { CHANGED_PROBLEM_TYPE, IN_FLIGHT_PROBLEM_TYPE, NOT_STORED_PROBLEM_TYPE, USER_MISMATCH_PROBLEM_TYPE } from '../contract/problem-types.js';
export type { WriteMethod } from '../contract/http.js';
export { OUTBOX_NOT_READY, watchOutbox } from './outbox-state.js';
export type { OutboxState, OutboxWatch } from './outbox-state.js';
export { defineOutboxStatus } from './outbox-status.js';
export type { OutboxStatusElement } from './outbox-status.js';
