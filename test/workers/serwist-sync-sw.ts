// A Serwist 9 app's worker as it is before sw-outbox: its write route keeps failed writes
// in Serwist's background-sync queue "api-writes". The end-to-end tests build it.
import { BackgroundSyncPlugin, NetworkOnly, Serwist } from 'serwist';

new Serwist({
  skipWaiting: true,
  clientsClaim: true,
  runtimeCaching: [{ matcher: ({ url }) => url.pathname.startsWith('/api/'), method: 'POST', handler: new NetworkOnly({ plugins: [new BackgroundSyncPlugin('api-writes')] }) }],
}).addEventListeners();
