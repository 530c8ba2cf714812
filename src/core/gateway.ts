/**
 * The gateway: a Hono app serving `GET /ws` (path configurable) with ticket-authenticated
 * WebSockets. Every part is passed in; the library's `createGateway` (src/library/) fills in the
 * safe defaults, and the server assembles its own.
 */
import { Hono, type Context } from 'hono';
import { withRetryHint } from '../protocol/close-reason.ts';
import type { Identity, Verifier } from '../auth/verifier.ts';
import type { UserConnections } from './user-connections.ts';
import type { Admission } from './admission/index.ts';
import { CloseCodes, type CloseCodeInfo } from '../protocol/close-codes.ts';
import { Connection, type SharedConnectionDeps } from './connection.ts';
import { validateHandshake } from './handshake.ts';
import type { Handlers } from './handler.ts';
import type { GatewayObserver } from './observer.ts';
import { resolveLimits, type Limits } from './limits.ts';
import { silentLogger, type Logger } from '../logging/logger.ts';
import { ConnectionRegistry } from './registry.ts';
import { SessionClock } from './session-clock.ts';
import type { SocketReceiver, SocketRuntime } from './socket-port.ts';

export interface GatewayOptions {
  readonly verifier: Verifier;
  /** The runtime's WebSocket upgrade (src/runtime/*, or the library's adapter of a Hono helper). */
  readonly runtime: SocketRuntime;
  /** Message handlers by `type`. `refresh` is reserved by the protocol. */
  readonly handlers: Handlers;
  readonly limits?: Partial<Limits>;
  readonly logger?: Logger;
  /** Client IP of the upgrade request (runtime-specific); default: unknown. */
  readonly clientIp?: (c: Context) => string | null;
  /**
   * Checks run before the upgrade (origin, caps, rates; see `createAdmission`); a refusal is an
   * HTTP status. Its middleware is mounted app-wide: `GET //evil.com/ws` matches no `/ws` route.
   */
  readonly admission?: Pick<Admission, 'middleware' | 'claim'> & Partial<Pick<Admission, 'sharedOrigin'>>;
  /** Counts each user's sockets for the per-user cap (in-process, or Redis to cap across instances). */
  readonly userConnections: UserConnections;
  /** Receives counts and timings for metrics. */
  readonly observer?: GatewayObserver;
  /** Route of the WebSocket endpoint; default `/ws`. */
  readonly path?: string;
  readonly now?: () => number;
}

/**
 * Which sockets to close: all of a login session's, all of a user's, a user's in one login session,
 * or one socket of a user's (by connection id).
 */
export type RevocationTarget =
  | { readonly sid: string }
  | { readonly sub: string }
  | { readonly sub: string; readonly sid: string }
  | { readonly sub: string; readonly connectionId: string };

export interface Gateway {
  readonly app: Hono;
  readonly limits: Limits;
  /** Open connections, in any state. */
  connectionCount(): number;
  /** Authenticated users with at least one open socket. */
  userCount(): number;
  /** Closes the matching authenticated sockets; returns how many. */
  revoke(target: RevocationTarget, info: CloseCodeInfo, cause: string): number;
  /**
   * Closes every connection and resolves once all are gone or after `timeoutMs`, when the rest
   * are terminated; a socket that opens after the call (its upgrade was under way) is closed the
   * same way. With
   * `reconnectJitterMs`, each close reason carries its own random `retry-after-ms` hint so that
   * clients do not all come back at once.
   */
  closeAll(options?: { info?: CloseCodeInfo; cause?: string; timeoutMs?: number; reconnectJitterMs?: number }): Promise<void>;
}

/** The login session the auth service named in its verify answer, if any. */
const sidOf = (identity: Identity): string | null => (typeof identity.claims.sid === 'string' ? identity.claims.sid : null);

/** Even the luckiest client waits this long before coming back after a drain. */
const MIN_RECONNECT_HINT_MS = 250;

export function createGateway(options: GatewayOptions): Gateway {
  const limits = resolveLimits(options.limits);
  const handlers = options.handlers;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const registry = new ConnectionRegistry();
  const sessionClock = new SessionClock(now);
  let onEmpty: (() => void) | undefined;

  const userConnections = options.userConnections;
  /** Set by closeAll: a socket whose upgrade was already under way is closed the same way once it opens. */
  let closeLate: ((connection: Connection) => void) | undefined;

  /**
   * Per-user cap: the counter checks and records in one step (a Lua script on Redis), so
   * concurrent auths cannot both slip in, on one instance or across many. Fails closed. A
   * connection holds its user's counter exactly while the registry has it bound to the user (no
   * set of its own per socket): released when it closes, or here if it closed meanwhile.
   */
  const admit = async (identity: Identity, connection: Connection): Promise<CloseCodeInfo | null> => {
    if (connection.isClosed) return CloseCodes.goingAway;
    if (!(await userConnections.acquire(identity.sub, connection.id, limits.maxConnectionsPerUser))) return CloseCodes.userConnectionLimit;
    if (connection.isClosed) {
      void userConnections.release(identity.sub, connection.id); // closed while the counter answered
      return CloseCodes.goingAway;
    }
    registry.bind(connection, identity.sub, sidOf(identity));
    return null;
  };

  /** What every connection shares, once: an idle socket keeps no copy of these and no closure. */
  const sharedDeps: SharedConnectionDeps = {
    verifier: options.verifier,
    handlers,
    limits,
    logger,
    now,
    sessionClock,
    admit,
    observer: options.observer,
    // Revocation follows the socket onto the login session its refresh ticket came from.
    onIdentityChanged: (refreshed, identity) => registry.rebind(refreshed, sidOf(identity)),
    onClosed: (closed) => {
      const sub = registry.remove(closed);
      if (sub !== undefined) void userConnections.release(sub, closed.id);
      closed.slot?.release(); // the admission slot it held
      if (registry.size === 0) onEmpty?.();
    },
  };

  const app = new Hono();
  const upgrade = options.runtime.upgrade((c: Context) => {
    // Called for every request on this route, upgrade or not: only read headers here.
    // An allowlisted Origin as the allowlist's own string (equal), not this request's copy.
    const header = c.req.header('origin');
    const origin = header === undefined ? null : (options.admission?.sharedOrigin?.(header) ?? header);
    const ip = options.clientIp?.(c) ?? null;
    // The connection slot the admission granted; released exactly once when the socket is gone.
    const slot = options.admission?.claim(c);
    return {
      opened(port): SocketReceiver {
        if (slot !== undefined && !slot.open()) {
          // The slot lapsed before the handshake finished and the server filled up meanwhile.
          port.close(CloseCodes.tryAgainLater.code, 'server busy');
          return { receive() {}, peerClosed: () => slot.release() };
        }
        // The slot's copy of an equal IP is the one its address's sockets share (connection-counter.ts).
        const ownIp = slot !== undefined && slot.ip === ip ? slot.ip : ip;
        const connection = new Connection(sharedDeps, { id: crypto.randomUUID(), socket: port, origin, ip: ownIp, slot });
        registry.add(connection);
        connection.open();
        closeLate?.(connection);
        return connection;
      },
      abandoned() {
        slot?.release();
      },
    };
  });
  const route = options.path ?? '/ws';
  if (options.admission) app.use('*', options.admission.middleware);
  app.get(route, validateHandshake, upgrade, (c) => c.text('Upgrade Required', 426, { Upgrade: 'websocket' }));

  return {
    app,
    limits,
    connectionCount: () => registry.size,
    userCount: () => registry.users(),
    revoke(target, info, cause) {
      const targets =
        'connectionId' in target
          ? registry.forUser(target.sub).filter((connection) => connection.id === target.connectionId)
          : 'sid' in target
            ? registry.forSession(target.sid).filter((connection) => !('sub' in target) || registry.subOf(connection) === target.sub)
            : registry.forUser(target.sub);
      for (const connection of targets) connection.close(info, cause);
      return targets.length;
    },
    async closeAll({ info = CloseCodes.goingAway, cause = 'shutdown', timeoutMs = 5_000, reconnectJitterMs } = {}) {
      closeLate = (connection) => {
        const hint =
          reconnectJitterMs === undefined
            ? undefined
            : MIN_RECONNECT_HINT_MS + Math.random() * Math.max(0, reconnectJitterMs - MIN_RECONNECT_HINT_MS);
        connection.close(withRetryHint(info, hint), cause);
      };
      if (registry.size === 0) return;
      const drained = new Promise<void>((resolve) => {
        onEmpty = resolve;
      });
      for (const connection of registry.connections()) closeLate(connection);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      // Peers that never answered the close frame would otherwise hold the listener open (ws waits 30 s).
      for (const connection of registry.connections()) connection.terminate();
    },
  };
}
