// The cheapest worker that sees the app's writes: it sends each one on, as it is. What
// any service worker costs a write, before it does anything with it.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET') event.respondWith(fetch(event.request));
});
