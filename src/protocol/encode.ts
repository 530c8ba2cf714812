/** Outbound messages to the text of a frame. */
import type { OutboundMessage } from './messages.ts';

export function encode(message: OutboundMessage): string {
  return JSON.stringify(message);
}
