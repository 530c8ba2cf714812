/**
 * Where shared state lives: in this process (the embedded default) or in Redis (`--redis-url`),
 * so that tickets, sessions, pub/sub, per-user caps and revocations hold across instances.
 */
import { MemoryBroker } from '../backends/memory/broker.ts';
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
  readonly broker: Broker;
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
    return {
      kind: 'memory',
      tickets,
      sessions,
      broker,
      userConnections,
      healthy: () => true,
      onReconnected: () => {},
      close: async () => {
        await Promise.all([broker.close(), userConnections.close(), tickets.close(), sessions.close()]);
      },
    };
  }
  const log = logger.child({ component: 'redis' });
  // One command connection shared by the stores, the cap and the publisher; the broker adds its own subscriber.
  const client = createRedis({ url: config.redisUrl, name: 'hws-cmd', logger: log, onError: hooks.onRedisError });
  const broker = new RedisBroker({ url: config.redisUrl, publisher: client, logger: log });
  const userConnections = new RedisUserConnections({ client, logger: log });
  const tickets = new RedisTicketStore({ client, logger: log });
  const sessions = new RedisSessionStore({ client, logger: log });
  return {
    kind: 'redis',
    tickets,
    sessions,
    broker,
    userConnections,
    healthy: () => broker.healthy && isReady(client) && userConnections.healthy,
    onReconnected: (listener) => void client.on('ready', listener),
    close: async () => {
      await Promise.all([broker.close(), userConnections.close()]);
      await Promise.all([tickets.close(), sessions.close()]);
      await closeRedis(client);
    },
  };
}
