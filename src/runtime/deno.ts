/**
 * Deno platform: the same node:http + `ws` listener as Node (ws-listener.ts), run on Deno's
 * node:http compatibility, with Deno's own APIs for files, signals and the process.
 *
 * Not `Deno.serve` + `Deno.upgradeWebSocket`: Deno's WebSocket buffers a whole message (up to a
 * hard 64 MiB, fragmented or not) before the app sees a byte, so no size limit can bound its
 * memory; `Deno.serve` has no header timeout; and framing violations end in a TCP drop instead of
 * a close frame. `ws` refuses a message past maxPayload as its header or fragments arrive (1009),
 * node:http closes unfinished headers (408), and both answer protocol errors with 1002/1007.
 */
import type { Platform } from '../server/platform.ts';
import { listenWithWs, nodeClientIp, wsSocketRuntime } from './ws-listener.ts';

const staticDir = new URL('../../static/', import.meta.url);

export const platform: Platform = {
  name: 'deno',
  version: Deno.version.deno,
  socketRuntime: wsSocketRuntime,
  clientIp: nodeClientIp,
  readStatic: async (name) => {
    try {
      return await Deno.readFile(new URL(name, staticDir));
    } catch {
      return null;
    }
  },
  readTextFile: (path) => Deno.readTextFile(path),
  listen: listenWithWs,
  // No `sha256`: Deno's node:crypto hash (2.2–2.9 µs a session token) is slower than @noble/hashes (1.6 µs).
  auditHost: async () => (await import('./audit-host.ts')).auditHost,
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
