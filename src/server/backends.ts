/**
 * Where shared state lives: in this process (the embedded default) or in Redis (`--redis-url`),
 * so that tickets, sessions, channel streams (history, positions), presence, per-user caps and
 * revocations hold across instances.
 */
import { MemoryBroker } from '../backends/memory/broker.ts';
import { MemoryPresence } from '../backends/memory/presence.ts';
import { MemoryStream } from '../backends/memory/stream.ts';
import { RedisPresence } from '../backends/redis/presence.ts';
import { RedisStream } from '../backends/redis/stream.ts';
import type { Presence } from '../channels/presence.ts';
import type { Stream } from '../channels/stream.ts';
import { MemoryUserConnections } from '../backends/memory/user-connections.ts';
import { RedisBroker } from '../backends/redis/broker.ts';
import { closeRedis, createRedis, isReady } from '../backends/redis/connect.ts';
import { RedisUserConnections } from '../backends/redis/user-connections.ts';
import type { Broker } from '../channels/broker.ts';
import type { UserConnections } from '../core/user-connections.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import { MemorySessionStore } from '../backends/memory/session-store.ts';
import { MemoryTicketStore } from '../backends/memory/ticket-store.ts';
import { RedisSessionStore } from '../backends/redis/session-store.ts';
import { RedisTicketStore } from '../backends/redis/ticket-store.ts';
import type { SessionStore } from '../auth-service/session-store.ts';
import type { TicketStore } from '../auth-service/ticket-store.ts';

export interface Backends {
  readonly kind: 'memory' | 'redis';
  readonly tickets: TicketStore;
  readonly sessions: SessionStore;
  /** The control channel (revocations) and join/leave events between instances. */
  readonly broker: Broker;
  /** Every client channel: live fan-out, and history with positions where the namespace keeps it. */
  readonly stream: Stream;
  readonly presence: Presence;
  readonly userConnections: UserConnections;
  /** Readiness: can shared state be reached right now, with this instance's open sockets counted in it? */
  healthy(): boolean;
  /** Calls `listener` each time the shared Redis connection is (re)established; never in memory. */
  onReconnected(listener: () => void): void;
  close(): Promise<void>;
}

export interface BackendHooks {
  /** A Redis connection error (metrics). Only the shared command connection reports it: the broker makes its subscriber itself. */
  readonly onRedisError?: () => void;
}

export function createBackends(config: Config, logger: Logger, hooks: BackendHooks = {}): Backends {
  if (config.redisUrl === undefined) {
    const broker = new MemoryBroker({ logger });
    const tickets = new MemoryTicketStore();
    const sessions = new MemorySessionStore();
    const userConnections = new MemoryUserConnections();
    const stream = new MemoryStream({ logger });
    const presence = new MemoryPresence();
    return {
      kind: 'memory',
      tickets,
      sessions,
      broker,
      stream,
      presence,
      userConnections,
      healthy: () => true,
      onReconnected: () => {},
      close: async () => {
        await Promise.all([broker.close(), stream.close(), presence.close(), userConnections.close(), tickets.close(), sessions.close()]);
      },
    };
  }
  const log = logger.child({ component: 'redis' });
  // One command connection shared by the stores, the cap, the stream's appends and reads, presence and the
  // publisher; the broker and the stream each add their own subscriber connection.
  const client = createRedis({ url: config.redisUrl, name: 'hws-cmd', logger: log, onError: hooks.onRedisError });
  const broker = new RedisBroker({ url: config.redisUrl, publisher: client, logger: log });
  const stream = new RedisStream({ url: config.redisUrl, client, logger: log });
  const presence = new RedisPresence({ client, logger: log, leaseMs: config.presenceLease });
  const userConnections = new RedisUserConnections({ client, logger: log });
  const tickets = new RedisTicketStore({ client, logger: log });
  const sessions = new RedisSessionStore({ client, logger: log });
  return {
    kind: 'redis',
    tickets,
    sessions,
    broker,
    stream,
    presence,
    userConnections,
    healthy: () => broker.healthy && stream.healthy && presence.healthy && isReady(client) && userConnections.healthy,
    onReconnected: (listener) => void client.on('ready', listener),
    close: async () => {
      await Promise.all([broker.close(), stream.close(), presence.close(), userConnections.close()]);
      await Promise.all([tickets.close(), sessions.close()]);
      await closeRedis(client);
    },
  };
}
