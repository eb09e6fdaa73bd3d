/**
 * Who may import whom (npm run lint:deps, part of npm test). The worker (sw/), the page
 * helper (client/) and the server module (server/) share only contract/, which imports
 * none of them; the worker never loads page or server code, nor the server worker code.
 * The page helper reads the worker's message types and options (sw/protocol.ts,
 * sw/options.ts), which it speaks to.
 */
module.exports = {
  forbidden: [
    { name: 'contract-stands-alone', severity: 'error', comment: 'contract/ is the shared HTTP contract: it imports nothing of the sides that use it.', from: { path: '^contract/' }, to: { path: '^(sw|client|server)/' } },
    { name: 'worker-not-server', severity: 'error', comment: 'The worker shares with the server only what is in contract/.', from: { path: '^sw/' }, to: { path: '^server/' } },
    { name: 'server-not-worker', severity: 'error', comment: 'The server shares with the worker and the pages only what is in contract/.', from: { path: '^server/' }, to: { path: '^(sw|client)/' } },
    { name: 'page-not-server', severity: 'error', comment: 'The page helper never loads server code.', from: { path: '^client/' }, to: { path: '^server/' } },
    { name: 'worker-not-page', severity: 'error', comment: 'The worker never loads the page helper.', from: { path: '^sw/' }, to: { path: '^client/' } },
    { name: 'no-circular', severity: 'error', comment: 'A cycle makes neither module readable alone.', from: { path: '^(sw|client|server|contract)/' }, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Types count: a type import is a dependency a reader has to follow too.
    exclude: { path: '^(dist|node_modules)/' },
  },
};
