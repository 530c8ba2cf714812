import type { OutboundMessage } from './messages.ts';

export function encode(message: OutboundMessage): string {
  return JSON.stringify(message);
}
