/** The worker API with every optional feature, `sw-outbox/sw` (see core.ts). */
import './reads-feature.js';
import './at-rest-feature.js';
import './collections-feature.js';

export * from './core.js';
