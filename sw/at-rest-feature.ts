/**
 * The encryption-at-rest feature (option `encryptionKeyPath`): importing this module
 * provides it to the outbox (features.ts). dist/outbox-sw/outbox-sw-at-rest.js and
 * `sw-outbox/sw/at-rest`.
 */
import { AtRest } from './at-rest.js';
import { provide } from './features.js';

provide({ atRest: { AtRest } });
