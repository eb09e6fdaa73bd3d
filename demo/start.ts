/**
 * npm start: the grocery-list demo on http://localhost:8080/ (PORT to change it). It
 * serves the built files, so `npm start` builds first.
 */
import { DemoServer } from './server/demo-server.js';

const port = Number(process.env.PORT ?? 8080);
const server = await DemoServer.start({ port, host: 'localhost' }).catch((error: NodeJS.ErrnoException) => {
  console.error(error.code === 'EADDRINUSE' ? `Port ${port} is in use: set PORT to another one, e.g. PORT=8081 npm start.` : error);
  process.exit(1);
});
console.log(`sw-outbox grocery demo: http://localhost:${server.port}/  (Ctrl+C to stop)`);
