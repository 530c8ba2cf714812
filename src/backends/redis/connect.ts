/**
 * One way to make a Redis client, so the broker, the stores and the user-connection counter all
 * behave the same when Redis is slow or gone: connect at once, fail commands fast instead of
 * queueing them, reconnect forever with capped, jittered backoff.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';

export type { Redis } from 'ioredis';

export interface RedisConnectOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS). Never logged: it may hold a password. */
  readonly url: string;
  /** Shows in `CLIENT LIST` and in log lines, e.g. `hws-pub`. */
  readonly name?: string;
  readonly logger?: Logger;
  /** Give up on one TCP/TLS connect attempt after this long. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** A command with no reply after this long rejects (a half-open link would otherwise hang it). Default 2000. */
  readonly commandTimeoutMs?: number;
  /** Called on every connection error, including each failed reconnect attempt (metrics). Must not throw; a throw is ignored. */
  readonly onError?: (error: unknown) => void;
}

export const RECONNECT_BASE_MS = 200;
export const RECONNECT_CAP_MS = 5000;

/**
 * Delay before reconnect attempt `attempt` (1-based): min(200·2^(n-1), 5000), of which the upper
 * half is random so a fleet that lost Redis together does not reconnect in lockstep. Never gives up:
 * the gateway keeps serving local traffic and readiness says "not ready" until Redis is back.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 16); // bounded exponent: 2^16·200 is already past the cap
  const base = Math.min(RECONNECT_BASE_MS * 2 ** exp, RECONNECT_CAP_MS);
  return Math.round(base / 2 + random() * (base / 2));
}

/** Thrown (as a rejection) by every Redis-backed piece when Redis cannot answer; the gateway fails closed on it. */
export class RedisUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what}: redis unavailable`, options);
    this.name = 'RedisUnavailableError';
  }
}

/** Wraps any client/command error so callers see one stable code; the cause keeps ioredis's message for logs. */
export function unavailable(what: string, cause: unknown): RedisUnavailableError {
  return cause instanceof RedisUnavailableError ? cause : new RedisUnavailableError(what, { cause });
}

/**
 * A client configured the house way. Connection trouble is logged once per outage (warn) and again
 * when it ends (info), not on every retry, so a long outage does not flood the log.
 */
export function createRedis(options: RedisConnectOptions): Redis {
  const name = options.name ?? 'hws';
  const log = (options.logger ?? silentLogger).child({ component: 'redis', connection: name });
  const client = new Redis(options.url, {
    connectionName: name,
    lazyConnect: false,
    // A command is tried on one connection only: after a connection loss it rejects at once
    // (resending a PUBLISH or GETDEL later could duplicate or silently lose it).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // No unbounded in-memory queue while Redis is down: commands reject immediately.
    enableOfflineQueue: false,
    // The broker restores its own subscriptions from its refcount map on 'ready' (see broker/redis.ts),
    // so it can catch a failed resubscribe instead of leaving an unhandled rejection inside ioredis.
    autoResubscribe: false,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    retryStrategy: (attempt) => reconnectDelay(attempt),
  });
  let down = false;
  client.on('error', (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // a metrics hook must not break the client's own error handling
    }
    if (down) return;
    down = true;
    log.warn({ err: describe(error) }, 'redis connection error; reconnecting with backoff');
  });
  // 'reconnecting', not 'close': a deliberate quit() also closes, and must not log as an outage.
  client.on('reconnecting', () => {
    if (down) return;
    down = true;
    log.warn({}, 'redis connection lost; reconnecting with backoff');
  });
  client.on('ready', () => {
    if (down) log.info({}, 'redis connection restored');
    down = false;
  });
  return client;
}

/** Whether the client can run a command right now (it is connected and past the handshake). */
export function isReady(client: Redis): boolean {
  return client.status === 'ready';
}

/** Health check: PING answered within `timeoutMs`. Never rejects. */
export async function pingRedis(client: Redis, timeoutMs = 1000): Promise<boolean> {
  if (!isReady(client)) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const answered = client.ping().then(
      (reply) => reply === 'PONG',
      () => false,
    );
    return await Promise.race([answered, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a client politely when it is connected (QUIT), at once otherwise; stops reconnecting either way. Never rejects. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (isReady(client)) {
    try {
      await client.quit();
      return;
    } catch {
      // fall through: the link died while quitting
    }
  }
  client.disconnect(false);
}

/** An error as a short loggable string (never the URL, which may carry a password). */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/**
 * Where a Redis-backed piece gets its connection: its own from a URL (closed by its `close()`), or a
 * shared client the caller made with `createRedis` and closes itself, so one instance's stores and
 * publisher can share one connection.
 */
export type RedisSource = { readonly url: string; readonly client?: undefined } | { readonly client: Redis; readonly url?: undefined };

export interface OwnedClient {
  readonly client: Redis;
  /** True when this piece created the client and must close it. */
  readonly owned: boolean;
}

export function clientFrom(source: RedisSource, name: string, logger?: Logger): OwnedClient {
  if (source.client !== undefined) return { client: source.client, owned: false };
  return { client: createRedis({ url: source.url, name, ...(logger ? { logger } : {}) }), owned: true };
}

/** Key prefix shared by every Redis piece; configurable so two deployments can share one Redis. */
export const DEFAULT_PREFIX = 'hws:';
