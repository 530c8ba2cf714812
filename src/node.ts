/**
 * `hardened-ws/node`: the Node runtime adapter for the library, the one the server command uses —
 * `@hono/node-server` 2 over `ws`, with the native frame limit, heartbeats, slowloris timeouts and
 * the upgrade guards. Pass it to `createGateway({ runtime: nodeRuntime })`, serve with its `listen`.
 */
import type { Hono } from 'hono';
import { defaultLimits } from './core/limits.ts';
import { heartbeatDefaults } from './library/defaults.ts';
import type { RuntimeAdapter } from './library/create-gateway.ts';
import { nodeRuntime as runtime } from './runtime/node.ts';
import type { Listening, ListenOptions } from './server/platform.ts';

export type { Listening };

export interface NodeListenOptions extends Partial<Omit<ListenOptions, 'port'>> {
  readonly port: number;
}

export interface NodeRuntime extends RuntimeAdapter {
  /**
   * Listens with `app` (which mounts `gateway.app`). Defaults: host 127.0.0.1, `maxPayloadBytes`
   * the default message limit (64 KiB: pass your gateway's `limits.maxMessageBytes` if you changed
   * it), `maxBufferedBytes` the default send-buffer limit (1 MiB), heartbeat every 30 s with a
   * 10 s timeout, no TLS.
   */
  listen(app: Hono, options: NodeListenOptions): Promise<Listening>;
}

export const nodeRuntime: NodeRuntime = {
  socketRuntime: runtime.socketRuntime,
  clientIp: runtime.clientIp,
  listen: (app, options) =>
    runtime.listen(app, {
      host: '127.0.0.1',
      maxPayloadBytes: defaultLimits.maxMessageBytes,
      maxBufferedBytes: defaultLimits.maxBufferedBytes,
      heartbeat: heartbeatDefaults,
      ...options,
    }),
};
