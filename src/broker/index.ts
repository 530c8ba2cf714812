export type { Broker, BrokerMessage, Listener } from './broker.ts';
export { MemoryBroker, type MemoryBrokerOptions } from './memory.ts';
export { RedisBroker, type RedisBrokerOptions } from './redis.ts';
