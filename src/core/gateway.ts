/**
 * `createGateway`: the library's front door. Returns a Hono app serving `GET /ws` (path
 * configurable) with ticket-authenticated WebSockets; mount it in your own Hono app.
 */
import { Hono, type Context } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import type { Verifier } from '../auth/verifier.ts';
import { builtinHandlers } from '../handlers/index.ts';
import { CloseCodes, type CloseCodeInfo } from './close-codes.ts';
import { Connection } from './connection.ts';
import { toFrame } from './frames.ts';
import type { Handlers } from './handlers.ts';
import { resolveLimits, type Limits } from './limits.ts';
import { silentLogger, type Logger } from './logger.ts';

export interface GatewayOptions {
  readonly verifier: Verifier;
  /** The runtime adapter's helper: `hono/bun`, `hono/deno` or `@hono/node-server`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly upgradeWebSocket: UpgradeWebSocket<any, any>;
  /** Message handlers by `type`; default: echo and ping. */
  readonly handlers?: Handlers;
  readonly limits?: Partial<Limits>;
  readonly logger?: Logger;
  /** Client IP of the upgrade request (runtime-specific); default: unknown. */
  readonly clientIp?: (c: Context) => string | null;
  /** Route of the WebSocket endpoint; default `/ws`. */
  readonly path?: string;
  readonly now?: () => number;
}

export interface Gateway {
  readonly app: Hono;
  readonly limits: Limits;
  /** Open connections, in any state. */
  readonly connectionCount: () => number;
  /** Closes every connection (shutdown, revocation) and resolves once all are gone or after `timeoutMs`. */
  closeAll(info: CloseCodeInfo, cause: string, timeoutMs?: number): Promise<void>;
}

export function createGateway(options: GatewayOptions): Gateway {
  const limits = resolveLimits(options.limits);
  const handlers = options.handlers ?? builtinHandlers;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const connections = new Set<Connection>();
  let onEmpty: (() => void) | undefined;

  const app = new Hono();
  app.get(
    options.path ?? '/ws',
    options.upgradeWebSocket((c: Context) => {
      // Called for every request on this route, upgrade or not: only read headers here.
      const origin = c.req.header('origin') ?? null;
      const ip = options.clientIp?.(c) ?? null;
      let connection: Connection | undefined;
      return {
        onOpen(_event: Event, ws: WSContext) {
          const id = crypto.randomUUID();
          connection = new Connection({
            id,
            socket: { send: (text) => ws.send(text), close: (code, reason) => ws.close(code, reason) },
            verifier: options.verifier,
            handlers,
            limits,
            logger: logger.child({ conn: id, ip, origin }),
            origin,
            ip,
            now,
            onClosed: (closed) => {
              connections.delete(closed);
              if (connections.size === 0) onEmpty?.();
            },
          });
          connections.add(connection);
          connection.open();
        },
        onMessage(event: MessageEvent) {
          connection?.receive(toFrame(event.data));
        },
        onClose(event: CloseEvent) {
          connection?.peerClosed(event.code);
        },
        onError() {
          // The close event follows; nothing from the error reaches the client or the log verbatim.
        },
      };
    }),
    (c) => c.text('Upgrade Required', 426, { Upgrade: 'websocket' }),
  );

  return {
    app,
    limits,
    connectionCount: () => connections.size,
    async closeAll(info = CloseCodes.goingAway, cause = 'shutdown', timeoutMs = 5_000) {
      if (connections.size === 0) return;
      const drained = new Promise<void>((resolve) => {
        onEmpty = resolve;
      });
      for (const connection of [...connections]) connection.close(info, cause);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    },
  };
}
