/**
 * `hardened-ws/redis`: the Redis backends, for running several instances of a gateway built with
 * the library — channel streams (history, positions), presence, the broker (join/leave events,
 * your own control messages), the cluster-wide per-user cap, tickets and sessions on one Redis or
 * a Redis Cluster (`redis+cluster://host:port,…`: `createRedis` then returns an ioredis Cluster).
 */
export { RedisStream, type RedisStreamOptions } from './backends/redis/stream.ts';
export { RedisPresence, DEFAULT_PRESENCE_LEASE_MS, type RedisPresenceOptions } from './backends/redis/presence.ts';
export { RedisBroker, type RedisBrokerOptions } from './backends/redis/broker.ts';
export { RedisUserConnections, DEFAULT_LEASE_MS, type RedisUserConnectionsOptions } from './backends/redis/user-connections.ts';
export { RedisTicketStore } from './backends/redis/ticket-store.ts';
export { RedisSessionStore } from './backends/redis/session-store.ts';
export {
  createRedis,
  closeRedis,
  RedisUnavailableError,
  type Redis,
  type Cluster,
  type RedisClient,
  type RedisConnectOptions,
} from './backends/redis/connect.ts';
