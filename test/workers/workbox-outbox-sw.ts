// The same app's worker after the README's migration: one line changed, the plugin.
import { clientsClaim } from 'workbox-core';
import { registerRoute } from 'workbox-routing';
import { NetworkOnly } from 'workbox-strategies';
import { OutboxPlugin } from '../../sw/index.js';

declare const self: ServiceWorkerGlobalScope;

void self.skipWaiting();
clientsClaim();
registerRoute(({ url }) => url.pathname.startsWith('/api/'), new NetworkOnly({ plugins: [new OutboxPlugin('api-writes')] }), 'POST');
