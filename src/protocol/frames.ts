/** What a runtime hands over as a message, as a Frame (text with its byte count, or binary). */
import type { Frame } from './messages.ts';
import { utf8ByteLength } from './parse.ts';

/** Normalises what the runtimes hand to `onMessage` (string, ArrayBuffer, Blob, view) into a Frame. */
export function toFrame(data: unknown): Frame {
  if (typeof data === 'string') return { kind: 'text', data, bytes: utf8ByteLength(data) };
  if (data instanceof ArrayBuffer) return { kind: 'binary', bytes: data.byteLength };
  if (ArrayBuffer.isView(data)) return { kind: 'binary', bytes: data.byteLength };
  if (typeof Blob !== 'undefined' && data instanceof Blob) return { kind: 'binary', bytes: data.size };
  return { kind: 'binary', bytes: 0 };
}
