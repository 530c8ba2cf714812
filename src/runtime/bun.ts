/** Bun platform: `Bun.serve` with `hono/bun`'s WebSocket helper; frame limit enforced natively too. */
import { getConnInfo, upgradeWebSocket, websocket } from 'hono/bun';
import type { Platform } from '../server/platform.ts';
import { TLS_CIPHERS } from './tls.ts';

const staticDir = new URL('../../static/', import.meta.url);

/** Reads one file of static/ beside the sources (`bun run`); the compiled binary swaps this out. */
async function readStaticFromDisk(name: string): Promise<Uint8Array | null> {
  try {
    const file = Bun.file(new URL(name, staticDir));
    return (await file.exists()) ? new Uint8Array(await file.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

export const bunPlatform: Platform = {
  name: 'bun',
  version: Bun.version,
  upgradeWebSocket,
  clientIp: (c) => getConnInfo(c).remote.address ?? null,
  readStatic: readStaticFromDisk,
  readTextFile: (path) => Bun.file(path).text(),
  listen: async (app, options) => {
    const server = Bun.serve({
      fetch: app.fetch,
      port: options.port,
      hostname: options.host,
      // Server-wide: an oversize frame is refused by Bun itself with 1009 before the gateway sees it.
      websocket: { ...websocket, maxPayloadLength: options.maxPayloadBytes },
      ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key, ciphers: TLS_CIPHERS } } : {}),
    });
    return {
      port: server.port,
      // The gateway has already closed its sockets with its own reason; stop(true) would send a
      // bare 1001 to any straggler (and drops in-flight requests) instead of waiting for them.
      close: async () => {
        await server.stop(true);
      },
    };
  },
  onShutdownSignal: (handler) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => handler(signal));
  },
  argv: Bun.argv.slice(2),
  env: process.env,
  writeStdout: (text) => {
    process.stdout.write(text);
  },
  writeStderr: (text) => {
    process.stderr.write(text);
  },
  exit: (code) => process.exit(code),
};
