import assert from 'node:assert/strict';
import { test } from 'node:test';

// Imported by a specifier TypeScript does not follow: the plugin's types are a worker's
// (ServiceWorkerGlobalScope), which this Node program's DOM lib has not.
const plugin = '../../sw/outbox-plugin.js';
const { OutboxPlugin } = (await import(plugin)) as { OutboxPlugin: new (name: string, options?: Record<string, unknown>) => unknown };

// What OutboxPlugin refuses, before it builds anything: each error names the option and the fix.
test('OutboxPlugin refuses what has no meaning for it, naming the option and the fix', () => {
  assert.throws(() => new OutboxPlugin('api writes'), /queue name "api writes" names the writes' lane.*without spaces/);
  assert.throws(() => new OutboxPlugin('api', { onSync: () => {} }), (error: Error & { code?: string }) => error.code === 'unknown-option' && /onSync has no meaning here.*OutboxClient\.subscribe.*remove onSync/.test(error.message));
  assert.throws(() => new OutboxPlugin('api', { maxRetentionTime: -5 }), /maxRetentionTime is in minutes, as in Workbox, and must be a positive number; got -5/);
  assert.throws(() => new OutboxPlugin('api', { migrateFrom: 'workbox-v6' }), /migrateFrom must be "workbox", "serwist" or false; got "workbox-v6"/);
  assert.throws(() => new OutboxPlugin('api', { include: ['/api/'], methods: ['POST'] }), /include, methods have no meaning here: the Workbox route the plugin is on decides/);
});
