/** Outbound messages to the text of a frame. */
import type { OutboundMessage } from './messages.ts';

/** Where a message encoded once for many sockets keeps its text (non-enumerable: invisible to JSON and to deep equality). */
const TEXT = Symbol('hws.encoded');

export function encode(message: OutboundMessage): string {
  return (message as { [TEXT]?: string })[TEXT] ?? JSON.stringify(message);
}

/**
 * Encodes a message now and keeps the text on it, so sending the same object to many sockets (a
 * channel delivery) stringifies it once. The message must not change afterwards.
 */
export function encodedOnce<T extends OutboundMessage>(message: T): T {
  Object.defineProperty(message, TEXT, { value: JSON.stringify(message) });
  return message;
}
