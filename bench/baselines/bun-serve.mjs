/* global Bun, Response, process */
/**
 * Baseline: `Bun.serve` with native WebSockets, Bun's defaults (sendPings, idleTimeout 120 s).
 * Same per-message work as the product's echo; channels use Bun's native pub/sub.
 */
import { echoReply, listeningLine, okReply, parseEnvelope, portFrom, deliveryOf } from './envelope.mjs';

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: portFrom(process.argv),
  fetch(request, srv) {
    if (srv.upgrade(request)) return undefined;
    return new Response('Not Found', { status: 404 });
  },
  websocket: {
    maxPayloadLength: 64 * 1024,
    message(ws, data) {
      if (typeof data !== 'string') return ws.send('{"type":"error","code":"binary_unsupported"}');
      const { message, error } = parseEnvelope(data);
      if (error !== undefined) return ws.send(error);
      switch (message.type) {
        case 'echo':
          return ws.send(echoReply(message));
        case 'subscribe':
          ws.subscribe(message.channel);
          return ws.send(okReply(message));
        case 'publish':
          server.publish(message.channel, deliveryOf(message, 'bench'));
          return ws.send(okReply(message));
        default:
          return ws.send(JSON.stringify({ type: 'error', id: message.id, code: 'unknown_type' }));
      }
    },
  },
});
process.stdout.write(listeningLine(server.port));
process.on('SIGTERM', () => process.exit(0));
