/** Picks the subscriber for the command client's shape: SUBSCRIBE on one Redis, SSUBSCRIBE per master on a Cluster. */
import { parseRedisUrl } from '../../config/redis-url.ts';
import { isCluster } from './connect.ts';
import { ShardSubscriber } from './shard-subscriber.ts';
import { SingleSubscriber } from './single-subscriber.ts';
import type { Subscriber, SubscriberOptions } from './subscriber.ts';

export function createSubscriber(options: SubscriberOptions): Subscriber {
  const cluster = parseRedisUrl(options.url).kind === 'cluster';
  if (cluster !== isCluster(options.commands))
    throw new RangeError('the Redis URL and the shared client must both name a cluster, or both one Redis');
  return isCluster(options.commands) ? new ShardSubscriber(options, options.commands) : new SingleSubscriber(options);
}
