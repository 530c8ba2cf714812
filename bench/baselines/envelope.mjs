/**
 * The per-message work every baseline does, the same as the product's echo: parse the JSON
 * envelope, check it is an object with a string `type` (and a string/number `id` if present),
 * and answer `{"type":"echo","id","data"}`. Channel messages (subscribe / publish) are here too
 * for the fan-out scenario. Shared by the Node, Bun and Deno baselines (plain JS, no runtime API).
 */
export function parseEnvelope(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return { error: '{"type":"error","code":"invalid_json"}' };
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message))
    return { error: '{"type":"error","code":"invalid_message"}' };
  const { type, id } = message;
  if (typeof type !== 'string' || type.length === 0 || type.length > 64) return { error: '{"type":"error","code":"invalid_message"}' };
  if (id !== undefined && !(typeof id === 'string' ? id.length <= 128 : Number.isFinite(id)))
    return { error: '{"type":"error","code":"invalid_message"}' };
  return { message };
}

export const echoReply = (message) => JSON.stringify({ type: 'echo', id: message.id, data: message.data });
export const okReply = (message) => JSON.stringify({ type: 'ok', id: message.id });
export const deliveryOf = (message, from) =>
  JSON.stringify({ type: 'message', channel: message.channel, data: message.data ?? null, from });

/** `--port N` from argv (0 = any free port). */
export function portFrom(argv) {
  const i = argv.indexOf('--port');
  return i >= 0 ? Number(argv[i + 1]) : 0;
}

/** The same "listening" line the product logs, which the harness waits for. */
export const listeningLine = (port) => `${JSON.stringify({ level: 30, msg: 'listening', url: `http://127.0.0.1:${port}` })}\n`;

/** socket.io baseline's token key, shared with the load generator that signs tokens (not a secret). */
export const TOKEN_KEY = 'hardened-ws-bench-token-key-not-a-secret';
