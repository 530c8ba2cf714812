export type { UserConnections } from './user-connections.ts';
export { MemoryUserConnections } from './memory-user-connections.ts';
export { RedisUserConnections, DEFAULT_LEASE_MS, type RedisUserConnectionsOptions } from './redis-user-connections.ts';
