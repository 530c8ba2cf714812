/** Node.js platform: the shared node:http + `ws` listener (ws-listener.ts) and Node's process APIs. */
import { readFile } from 'node:fs/promises';
import type { Platform } from '../server/platform.ts';
import { nodePost } from './node-http-client.ts';
import { nodeSha256 } from './node-sha256.ts';
import { listenWithWs, nodeClientIp, wsSocketRuntime } from './ws-listener.ts';

const staticDir = new URL('../../static/', import.meta.url);

/** The Node runtime adapter: what the gateway needs (the upgrade, the client IP) and a listener. */
export const nodeRuntime: Pick<Platform, 'socketRuntime' | 'clientIp' | 'listen'> = {
  socketRuntime: wsSocketRuntime,
  clientIp: nodeClientIp,
  listen: listenWithWs,
};

export const platform: Platform = {
  name: 'node',
  version: process.versions.node,
  ...nodeRuntime,
  post: nodePost,
  sha256: nodeSha256,
  readStatic: async (name) => {
    try {
      return new Uint8Array(await readFile(new URL(name, staticDir)));
    } catch {
      return null;
    }
  },
  readTextFile: (path) => readFile(path, 'utf8'),
  auditHost: async () => (await import('./audit-host.ts')).auditHost,
  onShutdownSignal: (handler) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => handler(signal));
  },
  argv: process.argv.slice(2),
  env: process.env,
  writeStdout: (text) => process.stdout.write(text),
  writeStderr: (text) => process.stderr.write(text),
  exit: (code) => process.exit(code),
};
