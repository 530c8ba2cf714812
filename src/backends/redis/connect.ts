/**
 * One way to make a Redis client, so the broker, the stores and the user-connection counter all
 * behave the same when Redis is slow or gone: connect at once, fail commands fast instead of
 * queueing them, reconnect forever with capped, jittered backoff. A `redis+cluster://` URL gives
 * an ioredis Cluster configured the same way (see createCluster).
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { parseRedisUrl } from '../../config/redis-url.ts';
import type { RedisTarget } from '../../config/redis-url.ts';
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';

export type { Redis, Cluster } from 'ioredis';

/** A command connection: one Redis, or a Redis Cluster (which routes each command to its slot's master). */
export type RedisClient = Redis | Cluster;

export type ClusterTarget = Extract<RedisTarget, { kind: 'cluster' }>;

export interface RedisConnectOptions {
  /** `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS), or `redis+cluster://host:port,…` (see config/redis-url.ts). Never logged: it may hold a password. */
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
 * A client configured the house way: a Redis, or a Cluster for a `redis+cluster://` URL. Connection
 * trouble is logged once per outage (warn) and again when it ends (info), not on every retry, so a
 * long outage does not flood the log.
 */
export function createRedis(options: RedisConnectOptions): RedisClient {
  const target = parseRedisUrl(options.url);
  if (target.kind === 'cluster') return createCluster(target, options);
  return watched(new Redis(options.url, houseOptions(options)), options);
}

/** The per-connection options of every client here, Cluster nodes included. */
function houseOptions(options: Omit<RedisConnectOptions, 'url'>): RedisOptions {
  return {
    connectionName: options.name ?? 'hws',
    lazyConnect: false,
    // A command is tried on one connection only: after a connection loss it rejects at once
    // (resending a PUBLISH or GETDEL later could duplicate or silently lose it).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // No unbounded in-memory queue while Redis is down: commands reject immediately.
    enableOfflineQueue: false,
    // The subscribers restore their own channels on 'ready' (subscriber.ts, shard-subscriber.ts),
    // so they can catch a failed resubscribe instead of leaving an unhandled rejection inside ioredis.
    autoResubscribe: false,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    retryStrategy: (attempt) => reconnectDelay(attempt),
  };
}

/**
 * A Cluster client. Commands follow MOVED and ASK, and retry after TRYAGAIN and CLUSTERDOWN (each
 * of those replies means the command did not run), but never after a connection closed under them
 * (`retryDelayOnFailover: 0`): like a single Redis, a command that may have run is not sent twice.
 * The slot map is refreshed every 2 s, and at once on a MOVED. With no offline queue, ioredis
 * refuses a command for a node whose connection is still being made: so every master's connection
 * is opened as soon as the node is known (not lazily by the first command, which would let a burst
 * of commands fail), and `isReady` waits for all of them.
 */
function createCluster(target: ClusterTarget, options: RedisConnectOptions): Cluster {
  const { retryStrategy: _perNode, enableOfflineQueue: _queue, lazyConnect: _lazy, ...node } = houseOptions(options);
  const cluster = new Cluster(
    target.nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      redisOptions: { ...node, ...nodeAuth(target) },
      enableOfflineQueue: false,
      enableReadyCheck: true,
      retryDelayOnFailover: 0,
      clusterRetryStrategy: (attempt) => reconnectDelay(attempt),
      slotsRefreshInterval: 2000,
      slotsRefreshTimeout: 1000,
    },
  );
  const connectMasters = () => {
    if (cluster.status !== 'ready') return;
    for (const redis of cluster.nodes('master')) if (redis.status === 'wait') redis.connect().catch(() => {}); // its errors reach 'node error'
  };
  cluster.on('ready', connectMasters);
  // Deferred: the command that made ioredis add the node is sent first, and opens it itself.
  cluster.on('+node', () => setTimeout(connectMasters, 0));
  cluster.on('refresh', connectMasters);
  return watched(cluster, options);
}

/** A plain connection to one node of a cluster (a sharded subscriber's), with the cluster's credentials and TLS. */
export function createNodeRedis(
  target: ClusterTarget,
  node: { host: string; port: number },
  options: Omit<RedisConnectOptions, 'url'>,
): Redis {
  return watched(new Redis({ host: node.host, port: node.port, ...houseOptions(options), ...nodeAuth(target) }), options);
}

function nodeAuth(target: ClusterTarget): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return {
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: {} } : {}),
  };
}

function watched<C extends RedisClient>(client: C, options: Omit<RedisConnectOptions, 'url'>): C {
  const log = (options.logger ?? silentLogger).child({ component: 'redis', connection: options.name ?? 'hws' });
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

/** Whether the client is a Cluster (its scripts and pub/sub take the sharded forms). */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * Calls `lost` whenever what this instance wrote to Redis may be gone or out of reach — one Redis's
 * connection closed (a restart may have emptied it), or on a Cluster a node left the client's pool
 * (a failed master: its promoted replica may lack the latest writes) — and `back` when it may be
 * reachable again: ready again, or a node joined the pool. Returns a function that stops listening.
 */
export function watchLinks(client: RedisClient, handlers: { lost(): void; back(): void }): () => void {
  const lost = () => handlers.lost();
  const back = () => handlers.back();
  const events: [string, () => void][] = [
    ['close', lost],
    ['ready', back],
    ...(isCluster(client)
      ? ([
          ['-node', lost],
          ['+node', back],
        ] as [string, () => void][])
      : []),
  ];
  for (const [event, handler] of events) client.on(event, handler);
  return () => {
    for (const [event, handler] of events) client.off(event, handler);
  };
}

/** Whether the client can run a command right now (it is connected and past the handshake). */
export function isReady(client: RedisClient): boolean {
  if (client.status !== 'ready') return false;
  // A Cluster: and its connection to every known master is up (see createCluster).
  return !isCluster(client) || client.nodes('master').every((node) => node.status === 'ready');
}

/** Health check: PING answered within `timeoutMs`. Never rejects. */
export async function pingRedis(client: RedisClient, timeoutMs = 1000): Promise<boolean> {
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
export async function closeRedis(client: RedisClient): Promise<void> {
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
export type RedisSource =
  { readonly url: string; readonly client?: undefined } | { readonly client: RedisClient; readonly url?: undefined };

export interface OwnedClient {
  readonly client: RedisClient;
  /** True when this piece created the client and must close it. */
  readonly owned: boolean;
}

export function clientFrom(source: RedisSource, name: string, logger?: Logger): OwnedClient {
  if (source.client !== undefined) return { client: source.client, owned: false };
  return { client: createRedis({ url: source.url, name, ...(logger ? { logger } : {}) }), owned: true };
}

/** Key prefix shared by every Redis piece; configurable so two deployments can share one Redis. */
export const DEFAULT_PREFIX = 'hws:';
