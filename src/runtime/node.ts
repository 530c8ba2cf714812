/** Node.js platform: @hono/node-server 2.x with its built-in WebSocket support over `ws`. */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { WebSocketServer } from 'ws';
import type { Listening, Platform } from '../server/platform.ts';
import { TLS_CIPHERS } from './tls.ts';

const staticDir = new URL('../../static/', import.meta.url);

export const nodePlatform: Platform = {
  name: 'node',
  version: process.versions.node,
  upgradeWebSocket,
  clientIp: (c) => getConnInfo(c).remote.address ?? null,
  readStatic: async (name) => {
    try {
      return new Uint8Array(await readFile(new URL(name, staticDir)));
    } catch {
      return null;
    }
  },
  readTextFile: (path) => readFile(path, 'utf8'),
  listen: (app, options) =>
    new Promise<Listening>((resolve, reject) => {
      const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
      const tls = options.tls
        ? {
            createServer: createHttpsServer,
            serverOptions: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' as const, ciphers: TLS_CIPHERS, ecdhCurve: 'X25519:P-256:P-384', honorCipherOrder: true },
          }
        : {};
      const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host, websocket: { server: wss }, ...tls }, (info: AddressInfo) =>
        resolve({
          port: info.port,
          close: () => new Promise<void>((done) => server.close(() => done())),
        }),
      );
      server.once('error', reject);
    }),
  onShutdownSignal: (handler) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => handler(signal));
  },
  argv: process.argv.slice(2),
  env: process.env,
  writeStdout: (text) => process.stdout.write(text),
  writeStderr: (text) => process.stderr.write(text),
  exit: (code) => process.exit(code),
};
