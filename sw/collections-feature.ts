/**
 * The provisional-identities feature (option `collections`): importing this module
 * provides it to the outbox (features.ts). dist/outbox-sw/outbox-sw-collections.js and
 * `sw-outbox/sw/collections`.
 */
import { provide } from './features.js';
import { provisionalIdsIn } from './identities.js';
import { ProvisionalIdentities } from './provisional-identities.js';

provide({ collections: { ProvisionalIdentities, provisionalIdsIn } });
