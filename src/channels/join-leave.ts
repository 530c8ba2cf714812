/**
 * Join and leave events between instances: best effort over the broker (like presence itself,
 * they are not stored, and an instance that dies sends no leave; its presence entries lapse).
 */
import type { Broker } from './broker.ts';
import type { Logger } from '../logging/logger.ts';

export interface PresenceEvent {
  readonly type: 'join' | 'leave';
  readonly sub: string;
  readonly conn: string;
}

/** The broker channel carrying a channel's events; `$` keeps it apart from every client channel. */
const eventsChannel = (channel: string): string => `$hws.jl:${channel}`;

export function listenEvents(broker: Broker, channel: string, deliver: (event: PresenceEvent) => void): Promise<() => void> {
  return broker.subscribe(eventsChannel(channel), (message) => {
    const event = asEvent(message.data);
    if (event !== null) deliver(event);
  });
}

export function announce(broker: Broker, channel: string, event: PresenceEvent, logger: Logger): void {
  broker.publish({ channel: eventsChannel(channel), data: event, from: event.sub }).catch((error: unknown) => {
    logger.debug({ channel, type: event.type, err: error instanceof Error ? error.name : typeof error }, 'channel.event_not_sent');
  });
}

function asEvent(data: unknown): PresenceEvent | null {
  if (typeof data !== 'object' || data === null) return null;
  const { type, sub, conn } = data as Record<string, unknown>;
  if ((type !== 'join' && type !== 'leave') || typeof sub !== 'string' || typeof conn !== 'string') return null;
  return { type, sub, conn };
}
