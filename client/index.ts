export { registerOutbox, DEFAULT_SCRIPT_URL } from './register-outbox.js';
export type { RegisterOptions } from './register-outbox.js';
export { OutboxClient } from './outbox-client.js';
export type { Listener } from './outbox-client.js';
export { OutboxError } from '../sw/outbox-error.js';
export type { OutboxErrorCode } from '../sw/outbox-error.js';
export type { OutboxOptions, OutboxOptionsInput } from '../sw/options.js';
export * from '../sw/protocol.js';
