export { Idempotency, REPLAYED_HEADER } from './idempotency.js';
export type { IdempotencyOptions, KeyedRequest } from './idempotency.js';
export { MemoryIdempotencyStore } from './idempotency-store.js';
export type { IdempotencyStore, KeyRecord } from './idempotency-store.js';
export { parseIdempotencyKey, InvalidKeyError, MAX_KEY_LENGTH } from './idempotency-key.js';
export { idempotent, readRequest, sendReply, headerValue, WRITE_METHODS } from './node-http.js';
export type { ReadRequest, IdempotentOptions } from './node-http.js';
export { json, problem } from './problem.js';
export type { Reply } from './problem.js';
