export {
  createRedis,
  clientFrom,
  closeRedis,
  isReady,
  pingRedis,
  reconnectDelay,
  RedisUnavailableError,
  DEFAULT_PREFIX,
  type Redis,
  type RedisConnectOptions,
  type RedisSource,
} from './connect.ts';
