/**
 * Features loaded only when an option asks for them (decision 0031). The drop-in's core
 * (dist/outbox-sw/outbox-sw.js) loads each one's file with importScripts() while the worker
 * is first evaluated; the everything build (dist/outbox-sw.js) and `sw-outbox/sw` import
 * them all, and `sw-outbox/sw/core` none. Each feature's module (reads-feature.ts,
 * at-rest-feature.ts, collections-feature.ts) provides it here when it is imported. The
 * core imports only their types.
 */
import type { AtRest } from './at-rest.js';
import type { provisionalIdsIn } from './identities.js';
import type { createOfflineReads } from './offline-reads.js';
import type { OutboxOptions } from './options.js';
import { OutboxError } from './outbox-error.js';
import type { withWaitingWrites } from './own-writes.js';
import type { ProvisionalIdentities } from './provisional-identities.js';

export interface Features {
  /** Offline reads (options `reads`, `shell`), with workbox-strategies, showing the user's own waiting writes. */
  reads: { createOfflineReads: typeof createOfflineReads; withWaitingWrites: typeof withWaitingWrites };
  /** Encryption at rest (option `encryptionKeyPath`): the device key and the sealing of what is stored. */
  atRest: { AtRest: typeof AtRest };
  /** Provisional identities for creates (option `collections`). */
  collections: { ProvisionalIdentities: typeof ProvisionalIdentities; provisionalIdsIn: typeof provisionalIdsIn };
}
export type FeatureName = keyof Features;

/**
 * Each feature's file in dist/outbox-sw/, beside the core; its module, sw/<module>-feature.ts,
 * which is also its subpath `sw-outbox/sw/<module>`; and the option that asks for it.
 */
export const FEATURE_FILES: Record<FeatureName, { file: string; module: string; option: string }> = {
  reads: { file: 'outbox-sw-reads.js', module: 'reads', option: 'reads' },
  atRest: { file: 'outbox-sw-at-rest.js', module: 'at-rest', option: 'encryptionKeyPath' },
  collections: { file: 'outbox-sw-collections.js', module: 'collections', option: 'collections' },
};

/** The features these options use. */
export function featuresFor(options: OutboxOptions): FeatureName[] {
  const used: FeatureName[] = [];
  if (options.reads.shell.length > 0 || options.reads.paths.length > 0) used.push('reads');
  if (options.encryptionKeyPath !== undefined) used.push('atRest');
  if (options.collections.paths.length > 0) used.push('collections');
  return used;
}

// One registry per worker, on its global scope: the core and the feature files are
// separate scripts, each with its own copy of this module.
const REGISTRY = Symbol.for('sw-outbox.features');
const registry = (): Partial<Features> => ((globalThis as { [REGISTRY]?: Partial<Features> })[REGISTRY] ??= {});

/** Makes features available to the outbox: what a feature file does when it runs. */
export function provide(features: Partial<Features>): void {
  Object.assign(registry(), features);
}

/** A feature the options use; throws, naming the option and the file to serve, when it was not provided. */
export function feature<K extends FeatureName>(name: K): Features[K] {
  const found = registry()[name];
  if (found) return found;
  const { file, module, option } = FEATURE_FILES[name];
  throw new OutboxError('invalid-option', `sw-outbox: option ${option} needs its feature, which was not loaded: serve ${file} beside the drop-in's outbox-sw.js (every file of dist/outbox-sw/), or, with sw-outbox/sw/core, import 'sw-outbox/sw/${module}'.`);
}
