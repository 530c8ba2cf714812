/**
 * How many local subscribers each client channel has (the server API's `channels`): a Broker
 * decorator that counts the listeners the channel handlers add and remove. Internal channels
 * (`$…`, the control channel and reply channels) are not counted.
 */
import type { Broker } from '../channels/broker.ts';

export interface CountingBroker extends Broker {
  /** Channels with at least one local listener, and how many. */
  counts(): Iterable<readonly [string, number]>;
}

export function countingBroker(inner: Broker): CountingBroker {
  const counts = new Map<string, number>();
  const change = (channel: string, by: number) => {
    const next = (counts.get(channel) ?? 0) + by;
    if (next > 0) counts.set(channel, next);
    else counts.delete(channel);
  };
  return {
    publish: (message) => inner.publish(message),
    async subscribe(channel, listener) {
      const stop = await inner.subscribe(channel, listener);
      if (channel.startsWith('$')) return stop;
      change(channel, 1);
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        change(channel, -1);
        stop();
      };
    },
    get healthy() {
      return inner.healthy;
    },
    close: () => inner.close(),
    counts: () => counts.entries(),
  };
}
