/**
 * The drop-in worker's core, dist/outbox-sw/outbox-sw.js: the outbox without its optional
 * features. Each feature the options use is loaded from its file beside this script
 * (dist/outbox-sw/, features.ts), with importScripts() while the worker is first
 * evaluated, as workbox-sw loads its modules: the files are then part of the installed
 * worker, kept and updated with it.
 */
import { dropIn } from './drop-in.js';
import { FEATURE_FILES, featuresFor } from './features.js';
import { describe, OutboxError } from './outbox-error.js';

declare const self: ServiceWorkerGlobalScope;

dropIn((options) => {
  for (const name of featuresFor(options)) {
    const { file, option } = FEATURE_FILES[name];
    // Beside the registered script (or the host worker that imports this one).
    const url = new URL(file, self.location.href).href;
    try {
      importScripts(url);
    } catch (error) {
      throw new OutboxError('invalid-option', `sw-outbox: option ${option} needs ${url}, which could not be loaded (${describe(error)}). Serve every file of dist/outbox-sw/ beside outbox-sw.js.`);
    }
  }
});
