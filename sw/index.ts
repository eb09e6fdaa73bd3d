export { installOutbox } from './install.js';
export { Outbox } from './outbox.js';
export type { Trigger, WriteResult } from './outbox.js';
export { OutboxError } from './outbox-error.js';
export type { OutboxErrorCode } from './outbox-error.js';
export { resolveOptions, parseOptionsQuery, toOptionsQuery, WRITE_METHODS } from './options.js';
export type { OutboxOptions, OutboxOptionsInput, WriteMethod } from './options.js';
export type { OutboxEntry } from './outbox-store.js';
export * from './protocol.js';
