/**
 * `hardened-ws/redis`: the Redis backends, for running several instances of a gateway built with
 * the library — pub/sub, the cluster-wide per-user cap, tickets and sessions on one Redis.
 */
export { RedisBroker, type RedisBrokerOptions } from './broker/index.ts';
export { RedisUserConnections, DEFAULT_LEASE_MS, type RedisUserConnectionsOptions } from './cluster/index.ts';
export { RedisTicketStore } from './store/redis-ticket-store.ts';
export { RedisSessionStore } from './store/redis-session-store.ts';
export { createRedis, closeRedis, RedisUnavailableError, type Redis, type RedisConnectOptions } from './redis/index.ts';
