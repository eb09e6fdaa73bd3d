// The same Serwist app's worker after the migration: the plugin, told whose queue to move in.
import { NetworkOnly, Serwist } from 'serwist';
import { OutboxPlugin } from '../../sw/index.js';

new Serwist({
  skipWaiting: true,
  clientsClaim: true,
  runtimeCaching: [{ matcher: ({ url }) => url.pathname.startsWith('/api/'), method: 'POST', handler: new NetworkOnly({ plugins: [new OutboxPlugin('api-writes', { migrateFrom: 'serwist' })] }) }],
}).addEventListeners();
