/**
 * RFC 6455 §4.2.1 checks on the upgrade request, in the app so every runtime answers the same:
 * the runtimes' own checks differ (Bun upgrades any Sec-WebSocket-Protocol value, where `ws`
 * answers 400; Deno's native upgrade took any Sec-WebSocket-Version).
 */
import type { MiddlewareHandler } from 'hono';

/** 16 random bytes, base64: 22 characters and `==`. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** RFC 7230 token: one or more tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * RFC 6455 §4.1: Sec-WebSocket-Protocol is a comma-separated list of RFC 7230 tokens, each named
 * once (whitespace around the commas allowed). The rule of `ws`, so Node answers the same.
 */
export function isValidSubprotocolList(value: string): boolean {
  const seen = new Set<string>();
  for (const element of value.split(',')) {
    const token = trimSpacesAndTabs(element);
    if (!TOKEN.test(token) || seen.has(token)) return false;
    seen.add(token);
  }
  return true;
}

/** A loop, not a regex: `/[ \t]+$/` is quadratic on a long run of spaces that does not end the value. */
function trimSpacesAndTabs(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(start, end);
}

export const validateHandshake: MiddlewareHandler = async (c, next) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
  if (c.req.header('sec-websocket-version') !== '13') {
    return c.json({ error: 'unsupported_websocket_version' }, 426, { 'Sec-WebSocket-Version': '13', Connection: 'close' });
  }
  if (!KEY.test(c.req.header('sec-websocket-key') ?? '')) return c.json({ error: 'bad_websocket_key' }, 400, { Connection: 'close' });
  const protocols = c.req.header('sec-websocket-protocol');
  if (protocols !== undefined && !isValidSubprotocolList(protocols))
    return c.json({ error: 'bad_websocket_protocol' }, 400, { Connection: 'close' });
  return next();
};
