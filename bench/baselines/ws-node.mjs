/* global clearInterval, console, process, setInterval */
/**
 * Baseline: bare `ws` on Node's http server, with the `ws` README's heartbeat (ping every 30 s,
 * terminate if the previous ping was not answered). Same per-message work as the product's echo.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { deliveryOf, echoReply, listeningLine, okReply, parseEnvelope, portFrom } from './envelope.mjs';

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 });
const channels = new Map(); // channel -> Set<WebSocket>

wss.on('connection', (ws) => {
  ws.isAlive = true;
  ws.on('pong', () => (ws.isAlive = true));
  const subscribed = new Set();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return ws.send('{"type":"error","code":"binary_unsupported"}');
    const { message, error } = parseEnvelope(data.toString());
    if (error !== undefined) return ws.send(error);
    switch (message.type) {
      case 'echo':
        return ws.send(echoReply(message));
      case 'subscribe': {
        let set = channels.get(message.channel);
        if (set === undefined) channels.set(message.channel, (set = new Set()));
        set.add(ws);
        subscribed.add(message.channel);
        return ws.send(okReply(message));
      }
      case 'publish': {
        const text = deliveryOf(message, 'bench');
        for (const peer of channels.get(message.channel) ?? []) peer.send(text);
        return ws.send(okReply(message));
      }
      default:
        return ws.send(JSON.stringify({ type: 'error', id: message.id, code: 'unknown_type' }));
    }
  });
  ws.on('close', () => {
    for (const channel of subscribed) channels.get(channel)?.delete(ws);
  });
  ws.on('error', () => {});
});

const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.isAlive) {
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, 30_000);
wss.on('close', () => clearInterval(heartbeat));

server.listen(portFrom(process.argv), '127.0.0.1', () => process.stdout.write(listeningLine(server.address().port)));
process.on('SIGTERM', () => process.exit(0));
process.on('uncaughtException', (error) => {
  console.error(error);
  process.exit(1);
});
