/**
 * The worker API without its optional features, `sw-outbox/sw/core`: an app imports the
 * features its options use beside it (`sw-outbox/sw/reads`, `/at-rest`, `/collections`),
 * and its bundler leaves the others out. `sw-outbox/sw` is this with every feature.
 */
export { installOutbox } from './install.js';
export { listenForOutbox, runCommand } from './listen-for-outbox.js';
export { OutboxPlugin } from './outbox-plugin.js';
export type { OutboxPluginOptions } from './outbox-plugin.js';
export { migrateQueue, QUEUE_DATABASES } from './workbox-migration.js';
export { createOutbox } from './create-outbox.js';
export { Outbox } from './outbox.js';
export type { OutboxDeps, OutboxHooks, SyncManagerLike, Trigger, WriteResult } from './outbox-deps.js';
export type { LaneHook } from './lanes.js';
export { OutboxError } from './outbox-error.js';
export type { OutboxErrorCode } from './outbox-error.js';
export { WRITE_METHODS } from './options.js';
export { resolveOptions } from './resolve-options.js';
export { parseOptionsQuery, toOptionsQuery, QUERY_PREFIX } from './options-query.js';
export type { OutboxOptions, OutboxOptionsInput, WriteMethod } from './options.js';
export type { Entry, PendingEntry, SendingEntry, DeadEntry } from './entry.js';
// The page↔worker protocol's names and message types (Command and its replies too, for a
// worker that routes messages itself with runCommand), and the HTTP contract.
export { CHANNEL_NAME, DEFAULT_LANE, PROTOCOL_NAME, PROTOCOL_VERSION, SYNC_TAG } from './protocol.js';
export { DEFAULT_SNAPSHOT_LIMIT } from './commands.js';
export type { ChannelMessage, ConfigErrorMessage, ConflictAnswer, ConflictDetails, ConflictPolicy, Counts, DeadReasonCode, EntryMeta, EntryState, LaneMeta, Problem, QueuedBody, Resolution, StatusEvent, StatusMessage } from './protocol.js';
export type { CredentialsRequest, PendingWrite, SignOutPending, SignOutResult, Snapshot, StorageState, Command, CommandAck, CommandReply, Commands, CommandType } from './commands.js';
export { APPLIED_HEADER, CACHED_AT_HEADER, ENTRY_ID_HEADER, FROM_CACHE_HEADER, HEADERS, NOT_STORED_HEADER, QUEUED_HEADER, WITHDRAWN_HEADER } from '../contract/http.js';
export { CHANGED_PROBLEM_TYPE, IN_FLIGHT_PROBLEM_TYPE, NOT_STORED_PROBLEM_TYPE, USER_MISMATCH_PROBLEM_TYPE } from '../contract/problem-types.js';
