// Workbox's own offline writes, as its docs set them up: NetworkOnly for the app's writes,
// with the BackgroundSyncPlugin keeping those that fail and replaying them on sync.
import { BackgroundSyncPlugin } from 'workbox-background-sync';
import { registerRoute } from 'workbox-routing';
import { NetworkOnly } from 'workbox-strategies';

declare const self: ServiceWorkerGlobalScope;

const strategy = new NetworkOnly({ plugins: [new BackgroundSyncPlugin('bench', { maxRetentionTime: 7 * 24 * 60 })] });
for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) registerRoute(({ url }) => url.pathname.startsWith('/api/'), strategy, method);
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
