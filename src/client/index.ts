/**
 * hardened-ws client SDK — the public face. Web-standard only (no node:*): runs in browsers and in
 * Node, Bun and Deno. Bundled to static/sdk.js by scripts/build-client.ts.
 *
 *   const client = connect({ url: 'wss://example.com/ws', getTicket: () => fetchTicket('/auth/ticket') });
 *   client.on('state', ({ state }) => …);
 *   const reply = await client.request({ type: 'echo', data: 'hi' });
 *   await client.subscribe('chat:lobby', (data, { from, recovered }) => …);
 *   client.channel('chat:lobby').on('resync', () => reloadFromTheApp());
 *   await client.publish('chat:lobby', { text: 'hello' });
 */
import { Client } from './client.ts';
import type { ConnectOptions } from './types.ts';

export { Client } from './client.ts';
export { ClientError, type ClientErrorCode } from './errors.ts';
export { fetchTicket, TicketError, type TicketGrant } from './ticket.ts';
export { describeCloseCode, knownCloseCodes, type CloseCodeDescription } from './close-info.ts';
export { backoffCeiling, fullJitter } from './backoff.ts';
export { parseCloseReason } from '../protocol/close-reason.ts';
export { retryClassOf, type RetryClass } from '../protocol/close-codes.ts';
export type { Subscription } from './subscription.ts';
export type {
  ChannelHandler,
  Delivery,
  HistoryOptions,
  HistoryPage,
  HistoryPublication,
  PresenceChange,
  PresenceClient,
  PresenceResult,
  PresenceStats,
  Publication,
  Resync,
  ResyncReason,
  StreamPosition,
  SubscribeOptions,
  Subscribed,
  SubscriptionEvents,
  SubscriptionState,
} from './subscription-types.ts';
export type {
  ClientEvents,
  ClientLogger,
  ClientState,
  Clock,
  CloseDetails,
  ConnectOptions,
  OutgoingMessage,
  Reply,
  WebSocketConstructor,
  WebSocketLike,
} from './types.ts';

/** Starts connecting right away; the returned client reconnects by itself until `close()`. */
export function connect(options: ConnectOptions): Client {
  return new Client(options);
}
