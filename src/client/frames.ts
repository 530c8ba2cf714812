/** Text frames in and out: the protocol is JSON objects with a string `type`, nothing else. */
import { ClientError } from './errors.ts';
import type { OutgoingMessage, Reply } from './types.ts';

/** A server frame as a message, or null for anything that is not a JSON object with a type. */
export function parseFrame(data: unknown): Reply | null {
  if (typeof data !== 'string') return null; // the protocol is text-only
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    return typeof (parsed as Reply).type === 'string' ? (parsed as Reply) : null;
  } catch {
    return null;
  }
}

/** The frame text of an outgoing message. Errors name the problem, never the content. */
export function serialise(message: OutgoingMessage): string {
  if (typeof message !== 'object' || message === null || typeof message.type !== 'string') {
    throw new ClientError('invalid_message', 'a message must be an object with a string type');
  }
  try {
    return JSON.stringify(message);
  } catch {
    throw new ClientError('invalid_message', 'the message is not serialisable as JSON');
  }
}
