// A Workbox app's worker as it is before sw-outbox: its write route keeps failed writes
// in Workbox's background-sync queue "api-writes". The end-to-end tests build it.
import { BackgroundSyncPlugin } from 'workbox-background-sync';
import { clientsClaim } from 'workbox-core';
import { registerRoute } from 'workbox-routing';
import { NetworkOnly } from 'workbox-strategies';

declare const self: ServiceWorkerGlobalScope;

void self.skipWaiting();
clientsClaim();
registerRoute(({ url }) => url.pathname.startsWith('/api/'), new NetworkOnly({ plugins: [new BackgroundSyncPlugin('api-writes')] }), 'POST');
