/**
 * INTERIM, until wip/channels' createChannelService is merged: the ChannelService over the Broker
 * alone (live delivery, as client publishes have it today). History and presence are not kept yet,
 * so they answer `history_disabled` / `presence_disabled`; an idempotency key is accepted and has
 * no effect (without a stored publication there is nothing to deduplicate against).
 */
import type { Broker } from '../channels/broker.ts';
import type { ChannelService } from '../channels/channel-service.ts';
import { StorageError, type StorageErrorCode } from '../channels/storage-error.ts';

export function brokerChannelService(broker: Broker): ChannelService {
  const refuse = (code: string) => Promise.reject(new StorageError(code as StorageErrorCode));
  return {
    async publish(channel, data, from) {
      try {
        await broker.publish({ channel, data: data ?? null, from });
      } catch (error) {
        throw new StorageError('unavailable', 'the broker is unavailable', { cause: error });
      }
      return null;
    },
    history: () => refuse('history_disabled'),
    presence: () => refuse('presence_disabled'),
    presenceStats: () => refuse('presence_disabled'),
  };
}
