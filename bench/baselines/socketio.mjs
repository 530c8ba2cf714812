/* global Buffer, console, process */
/**
 * Baseline: socket.io on Node (its defaults: heartbeat every 25 s) with the usual auth
 * middleware: the client sends a signed token in the handshake (`auth: { token }`), the
 * middleware checks an HMAC-SHA256 signature and the expiry before the connection is accepted.
 * Messages are the same JSON envelopes, sent with `socket.send` (the "message" event);
 * channels are socket.io rooms.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { deliveryOf, echoReply, listeningLine, okReply, parseEnvelope, portFrom, TOKEN_KEY } from './envelope.mjs';

/** `sub.exp.signature` (base64url HMAC-SHA256 of `sub.exp`); returns the subject or null. */
function checkToken(token) {
  if (typeof token !== 'string' || token.length > 512) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [sub, exp, signature] = parts;
  const expected = createHmac('sha256', TOKEN_KEY).update(`${sub}.${exp}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (!(Number(exp) * 1000 > Date.now())) return null;
  return sub;
}

const http = createServer();
const io = new Server(http, { maxHttpBufferSize: 64 * 1024, serveClient: false });

io.use((socket, next) => {
  const sub = checkToken(socket.handshake.auth?.token);
  if (sub === null) return next(new Error('unauthorized'));
  socket.data.sub = sub;
  next();
});

io.on('connection', (socket) => {
  socket.on('message', (text) => {
    if (typeof text !== 'string') return socket.send('{"type":"error","code":"binary_unsupported"}');
    const { message, error } = parseEnvelope(text);
    if (error !== undefined) return socket.send(error);
    switch (message.type) {
      case 'echo':
        return socket.send(echoReply(message));
      case 'subscribe':
        socket.join(message.channel);
        return socket.send(okReply(message));
      case 'publish':
        io.to(message.channel).emit('message', deliveryOf(message, socket.data.sub));
        return socket.send(okReply(message));
      default:
        return socket.send(JSON.stringify({ type: 'error', id: message.id, code: 'unknown_type' }));
    }
  });
});

http.listen(portFrom(process.argv), '127.0.0.1', () => process.stdout.write(listeningLine(http.address().port)));
process.on('SIGTERM', () => process.exit(0));
process.on('uncaughtException', (error) => {
  console.error(error);
  process.exit(1);
});
