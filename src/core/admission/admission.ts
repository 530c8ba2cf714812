/**
 * Admission: every check that runs before a WebSocket upgrade. A refusal is an ordinary HTTP
 * response (never a 101) with a short JSON body that echoes nothing the client sent.
 *
 * The middleware acts only on requests that carry an `Upgrade` header and passes everything else
 * through, so it can be mounted app-wide (`app.use('*', …)`). It must be: `GET //evil.com/ws`
 * matches no `/ws` route on any runtime, so a route-level middleware would never see it.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { KeyedRateLimiter, type RateSpec } from '../token-bucket.ts';
import type { Logger } from '../../logging/logger.ts';
import { ConnectionCounter } from './connection-counter.ts';
import { createOriginGuard, type OriginGuard } from './origin-guard.ts';
import type { OriginPolicy } from './origin-policy.ts';
import { isSafeRequestTarget } from './request-target.ts';
import type { ServerNames } from './server-names.ts';
import { SlotTable, type Slot } from './slots.ts';

export interface AdmissionOptions {
  /** `--allowed-origins`: comma-separated exact origins, `self`, `*`. */
  readonly allowedOrigins: string;
  readonly allowMissingOrigin: boolean;
  /**
   * `--public-origin`: the origins this server is reached at, comma-separated. Host must name one
   * of them (else 421) and `self` means them. Omitted: only IP-literal and `localhost` Hosts are
   * served, `self` being the origin such a request addressed; any DNS name gets 421.
   */
  readonly publicOrigins?: string | readonly string[];
  /** Ready-made names (win over `publicOrigins`); the server passes those of its listen address. */
  readonly serverNames?: ServerNames;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Upgrades per client IP. */
  readonly upgradeRate: RateSpec;
  readonly clientIp: (c: Context) => string | null;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How long an admitted upgrade may take to open before its slot is given back; default 10 s. */
  readonly pendingTimeoutMs?: number;
  /** Every refusal, for metrics; `limit` is true for the caps and the rate (logged as `limit.hit`). Must not throw. */
  readonly onRefused?: (reason: RefusalReason, limit: boolean) => void;
}

export type RefusalReason =
  | 'bad_request_target'
  | 'unknown_host'
  | 'bad_upgrade'
  | 'origin_missing'
  | 'origin_forbidden'
  | 'server_full'
  | 'too_many_connections'
  | 'upgrade_rate';

export interface AdmissionStats {
  /** Slots held (pending + open). */
  readonly connections: number;
  /** Admitted upgrades whose socket has not opened yet. */
  readonly pending: number;
  /** Client IPs holding at least one slot. */
  readonly trackedIps: number;
}

export interface Admission {
  /** Mount app-wide, before the WebSocket route: `app.use('*', admission.middleware)`. */
  readonly middleware: MiddlewareHandler;
  /**
   * The slot the middleware granted this request; undefined if it granted none. Call it in the
   * `upgradeWebSocket` callback: claiming tells the middleware the request reached the WebSocket
   * route, so the slot is kept for the socket instead of being given back with the response.
   * Then `slot.open()` in onOpen (false → close 1013) and `slot.release()` in onClose.
   */
  claim(c: Context): Slot | undefined;
  /** The parsed allowlist: `policy.allowsAny` deserves a startup warning. */
  readonly policy: OriginPolicy;
  /** Host and Origin checks as used here; hand them to the auth service so both decide alike. */
  readonly origins: OriginGuard;
  /**
   * The allowlist's own copy of an Origin header equal to one of its entries, else `origin`: a
   * socket that keeps its Origin keeps one string shared by every socket of that origin.
   */
  sharedOrigin(origin: string): string;
  stats(): AdmissionStats;
}

const DEFAULT_PENDING_TIMEOUT_MS = 10_000;
/** Caps free up as sockets close, at no predictable moment: a short, fixed hint. */
const CAP_RETRY_AFTER_S = 5;
/** The Origin is attacker-chosen: log enough to investigate, not a megabyte. */
const MAX_LOGGED_ORIGIN = 256;

interface Grant {
  readonly slot: Slot;
  claimed: boolean;
}

export function createAdmission(options: AdmissionOptions): Admission {
  // Parse first: a bad allowlist must stop the server at startup, not at the first upgrade.
  const origins = createOriginGuard(options);
  const policy = origins.policy;
  const now = options.now ?? Date.now;
  const counter = new ConnectionCounter({ maxConnections: options.maxConnections, maxConnectionsPerIp: options.maxConnectionsPerIp });
  const slots = new SlotTable(counter, options.pendingTimeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS, now);
  const rate = new KeyedRateLimiter(options.upgradeRate);
  // Keyed by the request's Context, which Hono hands both to this middleware and to the
  // upgradeWebSocket callback; a WeakMap needs no cleanup and no ContextVariableMap augmentation.
  const grants = new WeakMap<Context, Grant>();
  // Each entry keyed by itself: a Set cannot hand back its own instance of an equal string.
  const allowed = new Map<string, string>(Array.from(policy.origins, (entry) => [entry, entry]));

  const middleware: MiddlewareHandler = async (c, next) => {
    const upgrade = c.req.header('upgrade');
    if (upgrade === undefined) return next();

    const ip = options.clientIp(c);
    const origin = c.req.header('origin') ?? null;
    const refuse = (
      event: 'upgrade.refused' | 'limit.hit',
      reason: RefusalReason,
      status: 400 | 403 | 421 | 429 | 503,
      headers: Record<string, string> = {},
    ) => {
      // Only these three fields: never headers wholesale (cookies, authorization ride along there).
      options.logger.warn({ reason, ip, origin: origin?.slice(0, MAX_LOGGED_ORIGIN) ?? null, status }, event);
      options.onRefused?.(reason, event === 'limit.hit');
      return c.json({ error: reason }, status, headers);
    };

    const url = new URL(c.req.url);
    const host = c.req.header('host');
    if (!isSafeRequestTarget(url, host)) return refuse('upgrade.refused', 'bad_request_target', 403);
    // h2c and friends: node-server 2.1.9 would leave the socket hanging (GHSA-8wcc-wqxr-28qp).
    if (upgrade.trim().toLowerCase() !== 'websocket') return refuse('upgrade.refused', 'bad_upgrade', 400, { Connection: 'close' });

    // DNS rebinding: a page on evil.example whose name now resolves here sends `Host: evil.example`.
    if (!origins.hostAllowed(c)) return refuse('upgrade.refused', 'unknown_host', 421);
    const verdict = origins.checkOrigin(c);
    if (verdict === 'missing') return refuse('upgrade.refused', 'origin_missing', 403);
    if (verdict === 'forbidden') return refuse('upgrade.refused', 'origin_forbidden', 403);

    const retryAfterCap = { 'Retry-After': String(CAP_RETRY_AFTER_S) };
    const { result, slot } = slots.tryAcquire(ip);
    if (result === 'global_full') return refuse('limit.hit', 'server_full', 503, retryAfterCap);
    if (result === 'ip_full' || slot === undefined) return refuse('limit.hit', 'too_many_connections', 429, retryAfterCap);

    // Rate after the caps, as specified; the slot is given back if the rate refuses. An unknown IP
    // has no bucket of its own: one shared bucket would let one client throttle everyone.
    if (ip !== null) {
      const taken = rate.take(ip, now());
      if (!taken.ok) {
        slot.release();
        return refuse('limit.hit', 'upgrade_rate', 429, { 'Retry-After': String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))) });
      }
    }

    const grant: Grant = { slot, claimed: false };
    grants.set(c, grant);
    let keep = false;
    try {
      await next();
      // Kept only when the WebSocket route claimed it and answered as an upgrade does (Node: 200,
      // Bun: 200, Deno: 101). A 426, 404 or 500 means no socket will ever open.
      keep = grant.claimed && c.res.status < 300;
    } finally {
      if (!keep) slot.release();
    }
  };

  return {
    middleware,
    policy,
    origins,
    claim(c) {
      const grant = grants.get(c);
      if (grant === undefined) return undefined;
      grant.claimed = true;
      return grant.slot;
    },
    sharedOrigin: (origin) => allowed.get(origin) ?? origin,
    stats: () => ({ connections: counter.total, pending: slots.pendingCount, trackedIps: counter.trackedIps }),
  };
}
