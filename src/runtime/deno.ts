/**
 * Deno platform: `Deno.serve` with `hono/deno`'s WebSocket helper. Deno has no frame-size option
 * (only a hard 64 MiB), so the gateway's own size check is the limit here (close 1009).
 */
import type { Hono } from 'hono';
import { getConnInfo, upgradeWebSocket } from 'hono/deno';
import type { Listening, Platform } from '../server/platform.ts';

const staticDir = new URL('../../static/', import.meta.url);

/**
 * `hono/deno` only upgrades when the Upgrade header is exactly `websocket`, while RFC 6455 (and
 * Node, Bun and `Deno.upgradeWebSocket` itself) compare it case-insensitively: `Upgrade: WebSocket`
 * would get a 404. Such a request is rebuilt with the lower-case value (a rebuilt request can
 * still be upgraded by `Deno.upgradeWebSocket`).
 */
function normaliseUpgradeHeader(request: Request): Request {
  const upgrade = request.headers.get('upgrade');
  if (upgrade === null || upgrade === 'websocket' || upgrade.toLowerCase() !== 'websocket') return request;
  const headers = new Headers(request.headers);
  headers.set('upgrade', 'websocket');
  return new Request(request, { headers });
}

export const denoPlatform: Platform = {
  name: 'deno',
  version: Deno.version.deno,
  upgradeWebSocket,
  clientIp: (c) => getConnInfo(c).remote.address ?? null,
  readStatic: async (name) => {
    try {
      return await Deno.readFile(new URL(name, staticDir));
    } catch {
      return null;
    }
  },
  readTextFile: (path) => Deno.readTextFile(path),
  listen: (app: Hono, options) =>
    new Promise<Listening>((resolve, reject) => {
      try {
        const server = Deno.serve(
          {
            port: options.port,
            hostname: options.host,
            ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
            onListen: (addr) =>
              resolve({
                port: (addr as Deno.NetAddr).port,
                close: () => server.shutdown(),
              }),
          },
          (request, info) => app.fetch(normaliseUpgradeHeader(request), info),
        );
      } catch (error) {
        reject(error);
      }
    }),
  onShutdownSignal: (handler) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) Deno.addSignalListener(signal, () => handler(signal));
  },
  argv: Deno.args,
  env: Deno.env.toObject(),
  writeStdout: (text) => {
    Deno.stdout.writeSync(new TextEncoder().encode(text));
  },
  writeStderr: (text) => {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  },
  exit: (code) => Deno.exit(code),
};
