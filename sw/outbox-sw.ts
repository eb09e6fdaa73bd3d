/**
 * The everything build of the drop-in worker, dist/outbox-sw.js (and .min.js): every
 * feature in one classic script, no imports, so it works registered on its own or through
 * importScripts() from any host worker. See drop-in.ts for its options.
 */
import './reads-feature.js';
import './at-rest-feature.js';
import './collections-feature.js';
import { dropIn } from './drop-in.js';

dropIn();
