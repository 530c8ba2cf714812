/* global Deno, Response, TextEncoder */
/**
 * Baseline: `Deno.serve` + `Deno.upgradeWebSocket`, Deno's defaults (idleTimeout 120 s pings).
 * Same per-message work as the product's echo.
 */
import { echoReply, listeningLine, okReply, parseEnvelope, portFrom, deliveryOf } from './envelope.mjs';

const channels = new Map();
const server = Deno.serve(
  {
    hostname: '127.0.0.1',
    port: portFrom(Deno.args),
    onListen: ({ port }) => Deno.stdout.writeSync(new TextEncoder().encode(listeningLine(port))),
  },
  (request) => {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('Not Found', { status: 404 });
    const { socket, response } = Deno.upgradeWebSocket(request);
    const subscribed = new Set();
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return socket.send('{"type":"error","code":"binary_unsupported"}');
      const { message, error } = parseEnvelope(event.data);
      if (error !== undefined) return socket.send(error);
      switch (message.type) {
        case 'echo':
          return socket.send(echoReply(message));
        case 'subscribe': {
          let set = channels.get(message.channel);
          if (set === undefined) channels.set(message.channel, (set = new Set()));
          set.add(socket);
          subscribed.add(message.channel);
          return socket.send(okReply(message));
        }
        case 'publish': {
          const text = deliveryOf(message, 'bench');
          for (const peer of channels.get(message.channel) ?? []) peer.send(text);
          return socket.send(okReply(message));
        }
        default:
          return socket.send(JSON.stringify({ type: 'error', id: message.id, code: 'unknown_type' }));
      }
    };
    socket.onclose = () => {
      for (const channel of subscribed) channels.get(channel)?.delete(socket);
    };
    return response;
  },
);
Deno.addSignalListener('SIGTERM', () => server.shutdown().then(() => Deno.exit(0)));
