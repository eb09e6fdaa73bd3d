/**
 * npm start: a playground for the outbox. It serves demo/index.html and the built files
 * from the same server the end-to-end tests use, whose /api/ honours Idempotency-Key.
 */
import { TestServer } from '../test/support/test-server.js';

const port = Number(process.env.PORT ?? 8080);
const server = await TestServer.start({ port, page: 'demo/index.html' });
console.log(`sw-outbox playground: ${server.url.replace('127.0.0.1', 'localhost')}/  (Ctrl+C to stop)`);
