/**
 * RFC 6455 §4.2.1 checks on the upgrade request, in the app so every runtime answers the same:
 * Deno upgrades any Sec-WebSocket-Version and answers a missing key with 500.
 */
import type { MiddlewareHandler } from 'hono';

/** 16 random bytes, base64: 22 characters and `==`. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

export const validateHandshake: MiddlewareHandler = async (c, next) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
  if (c.req.header('sec-websocket-version') !== '13') {
    return c.json({ error: 'unsupported_websocket_version' }, 426, { 'Sec-WebSocket-Version': '13', Connection: 'close' });
  }
  if (!KEY.test(c.req.header('sec-websocket-key') ?? '')) return c.json({ error: 'bad_websocket_key' }, 400, { Connection: 'close' });
  return next();
};
