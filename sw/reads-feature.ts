/**
 * The offline-reads feature (options `reads`, `shell`): importing this module provides it
 * to the outbox (features.ts). dist/outbox-sw/outbox-sw-reads.js and `sw-outbox/sw/reads`.
 */
import { provide } from './features.js';
import { createOfflineReads } from './offline-reads.js';
import { withWaitingWrites } from './own-writes.js';

provide({ reads: { createOfflineReads, withWaitingWrites } });
