// A complete server on Node built with the library: `npx tsx node-server.ts` (PORT, default 3000).
import { Hono } from 'hono';
import { createGateway } from 'hardened-ws';
import { nodeRuntime } from 'hardened-ws/node';
import { handlers, ticketRoute, verifier } from './app.ts';

// Same-origin pages only, per-IP caps, upgrade rate and heartbeats are on by default. Behind a DNS
// name, say which (PUBLIC_ORIGIN=https://app.example.com): other Hosts get 421 (DNS rebinding).
const admission = { publicOrigins: process.env.PUBLIC_ORIGIN };
const gateway = createGateway({ runtime: nodeRuntime, verifier, handlers, admission });

const app = new Hono();
ticketRoute(app);
app.route('/', gateway.app); // GET /ws

const listening = await nodeRuntime.listen(app, { port: Number(process.env.PORT ?? 3000) });
console.log(`listening on http://127.0.0.1:${listening.port}`);

process.once('SIGTERM', async () => {
  await gateway.closeAll(); // 1001 to every socket, then stop
  await listening.close();
});
