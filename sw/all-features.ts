/**
 * Every optional feature (features.ts), each as the outbox takes it. The everything build
 * and the ES module API provide them all; each feature file of dist/outbox-sw/ provides one
 * (see esbuild.config.mjs), and a bundler leaves out the rest.
 */
import { AtRest } from './at-rest.js';
import type { Features } from './features.js';
import { provisionalIdsIn } from './identities.js';
import { createOfflineReads } from './offline-reads.js';
import { withWaitingWrites } from './own-writes.js';
import { ProvisionalIdentities } from './provisional-identities.js';

export const reads: Features['reads'] = { createOfflineReads, withWaitingWrites };
export const atRest: Features['atRest'] = { AtRest };
export const collections: Features['collections'] = { ProvisionalIdentities, provisionalIdsIn };

export const ALL_FEATURES: Features = { reads, atRest, collections };
