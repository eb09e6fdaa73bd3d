// Builds the things users load:
//   dist/outbox-sw.js     the drop-in worker with every feature: one classic script, no
//                         imports, so it works registered on its own or through
//                         importScripts(); readable in DevTools
//   dist/outbox-sw.min.js the same, minified, for sites that count bytes
//   dist/outbox-sw/       the drop-in as a core and one file per feature, loaded with
//                         importScripts() when an option asks for it (sw/features.ts):
//                         minified, each with a source map for DevTools
//   dist/outbox-register.js the page's one line: registers the worker beside it, and has it
//                         claim a page loaded with a hard reload
//   dist/sw/index.js      the worker API as an ES module, for apps that bundle their worker;
//                         core.js without the optional features, *-feature.js each one
//   dist/client/index.js  the page helper as an ES module
//   dist/client/react.js  its useOutbox() hook for React
//   dist/server/*.js      the Idempotency-Key module for Node servers, and its adapters for
//                         Express, Fastify and Hono (which import their framework: peers)
// Type declarations come from tsc (npm run build).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

// No file of an earlier build (a chunk under an old name) may reach the package.
rmSync('dist', { recursive: true, force: true });

/** The feature files of dist/outbox-sw/ by their modules, sw/<module>-feature.ts, as sw/features.ts names them (a package test checks the two agree). */
const FEATURE_FILES = { reads: 'outbox-sw-reads.js', 'at-rest': 'outbox-sw-at-rest.js', collections: 'outbox-sw-collections.js' };

const common = {
  bundle: true,
  // Service workers with module-free classic scripts reach back to these engines.
  target: ['chrome100', 'firefox102', 'safari15.4'],
  // Workbox keeps its development logs and assertions behind this check.
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: ['sw/outbox-sw.ts'], outfile: 'dist/outbox-sw.js', format: 'iife' }),
  build({ ...common, entryPoints: ['sw/outbox-sw.ts'], outfile: 'dist/outbox-sw.min.js', format: 'iife', minify: true, sourcemap: 'linked' }),
  build({ ...common, entryPoints: ['sw/outbox-sw-core.ts'], outfile: 'dist/outbox-sw/outbox-sw.js', format: 'iife', minify: true, sourcemap: 'linked' }),
  // Each feature's file: its module, which provides it to the core when it runs.
  ...Object.entries(FEATURE_FILES).map(([module, file]) =>
    build({ ...common, entryPoints: [`sw/${module}-feature.ts`], outfile: `dist/outbox-sw/${file}`, format: 'iife', minify: true, sourcemap: 'linked' }),
  ),
  build({ ...common, entryPoints: ['client/outbox-register.ts'], outfile: 'dist/outbox-register.js', format: 'iife', minify: true }),
  // The worker API: with every feature (index), without (core), and each feature alone,
  // sharing their code in chunks, so that a bundler takes only what an app imports.
  build({
    ...common,
    entryPoints: ['sw/index.ts', 'sw/core.ts', ...Object.keys(FEATURE_FILES).map((module) => `sw/${module}-feature.ts`)],
    outdir: 'dist/sw',
    chunkNames: 'chunk-[hash]',
    splitting: true,
    format: 'esm',
  }),
  build({ ...common, entryPoints: ['client/index.ts'], outfile: 'dist/client/index.js', format: 'esm' }),
  // The React hook imports React (a peer) and the page helper's own entry, both left as imports.
  build({ ...common, entryPoints: ['client/react.ts'], outfile: 'dist/client/react.js', format: 'esm', external: ['react', './index.js'] }),
  // One shared chunk holds the core, so an adapter and sw-outbox/server share its classes.
  build({
    ...common,
    entryPoints: ['server/index.ts', 'server/express.ts', 'server/fastify.ts', 'server/hono.ts'],
    outdir: 'dist/server',
    chunkNames: 'core-[hash]',
    splitting: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
  }),
  // The demo's shared note, with Yjs: the demo's own, not the package's (not in dist/).
  build({ ...common, entryPoints: ['demo/note/shared-note.ts'], outfile: 'demo/public/build/shared-note.js', format: 'esm', minify: true }),
]);
