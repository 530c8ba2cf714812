// The same server on Bun: `bun run bun-server.ts` (PORT, default 3000).
import { Hono } from 'hono';
import { getConnInfo, upgradeWebSocket, websocket } from 'hono/bun';
import { createGateway } from 'hardened-ws';
import { handlers, ticketRoute, verifier } from './app.ts';

const gateway = createGateway({
  upgradeWebSocket,
  clientIp: (c) => getConnInfo(c).remote.address ?? null, // for the per-IP caps
  verifier,
  handlers,
  admission: { publicOrigins: process.env.PUBLIC_ORIGIN }, // e.g. https://app.example.com behind a DNS name
});

const app = new Hono();
ticketRoute(app);
app.route('/', gateway.app); // GET /ws

// Bun checks the frame size natively (before it buffers a message) and sends heartbeat pings itself.
const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: '127.0.0.1',
  fetch: app.fetch,
  websocket: { ...websocket, maxPayloadLength: gateway.limits.maxMessageBytes },
});
console.log(`listening on http://127.0.0.1:${server.port}`);

process.once('SIGTERM', async () => {
  await gateway.closeAll(); // 1001 to every socket, then stop
  await server.stop();
});
