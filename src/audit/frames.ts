/** Hand-built WebSocket frames (any opcode, RSV bits, FIN, mask, length form) and a frame parser; RFC 6455 §5.2. */
import { randomBytes, utf8 } from './bytes.ts';

export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
export const RSV1 = 0b100;

export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  /** default true */
  readonly fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 0b100). */
  readonly rsv?: number;
  /** Client frames must be masked; default true. */
  readonly mask?: boolean;
  /** Declare this payload length instead of the real one (to send a frame's payload in pieces). */
  readonly declaredLength?: number;
}

/** The header of a (masked) frame and the masking key, for payloads sent in pieces with `maskFrom`. */
export function frameHeader(spec: Omit<FrameSpec, 'payload'> & { readonly length: number }): {
  header: Uint8Array;
  key: Uint8Array | null;
} {
  const mask = spec.mask ?? true;
  const length = spec.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const header = new Uint8Array(2 + lengthBytes + (mask ? 4 : 0));
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f);
  const view = new DataView(header.buffer);
  if (lengthBytes === 0) header[1] = length;
  else if (lengthBytes === 2) {
    header[1] = 126;
    view.setUint16(2, length);
  } else {
    header[1] = 127;
    view.setBigUint64(2, BigInt(length));
  }
  if (!mask) return { header, key: null };
  header[1]! |= 0x80;
  const key = randomBytes(4);
  header.set(key, 2 + lengthBytes);
  return { header, key };
}

/** Masks `payload` as bytes starting at `offset` of the frame's payload (RFC 6455 §5.3). */
export function maskFrom(payload: Uint8Array, key: Uint8Array | null, offset = 0): Uint8Array {
  if (key === null) return payload;
  const out = new Uint8Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i]! ^ key[(offset + i) & 3]!;
  return out;
}

export function buildFrame(spec: FrameSpec): Uint8Array {
  const payload = typeof spec.payload === 'string' ? utf8(spec.payload) : (spec.payload ?? new Uint8Array(0));
  const { header, key } = frameHeader({ ...spec, length: spec.declaredLength ?? payload.length });
  const out = new Uint8Array(header.length + payload.length);
  out.set(header);
  out.set(maskFrom(payload, key), header.length);
  return out;
}

export const textFrame = (payload: string | Uint8Array, extra: Partial<FrameSpec> = {}): Uint8Array =>
  buildFrame({ opcode: Opcode.text, payload, ...extra });

export interface Frame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** Total size of the frame whose first bytes (at least 14, or all there are) are `head`; undefined while the header is incomplete. */
export function frameSize(head: Uint8Array): number | undefined {
  if (head.length < 2) return undefined;
  const b1 = head[1]!;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let offset = 2;
  let length = b1 & 0x7f;
  if (length === 126) {
    if (head.length < 4) return undefined;
    length = view.getUint16(2);
    offset = 4;
  } else if (length === 127) {
    if (head.length < 10) return undefined;
    const big = view.getBigUint64(2);
    if (big > 1n << 40n) throw new Error('the server sent an absurd frame length');
    length = Number(big);
    offset = 10;
  }
  return offset + ((b1 & 0x80) !== 0 ? 4 : 0) + length;
}

/** Parses one frame at the start of `buf`; undefined while incomplete. Throws on a length no server should send. */
export function parseFrame(buf: Uint8Array): { frame: Frame; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let offset = 2;
  let length = b1 & 0x7f;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = view.getUint16(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    const big = view.getBigUint64(2);
    if (big > 1n << 40n) throw new Error('the server sent an absurd frame length');
    length = Number(big);
    offset = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  const keyAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  const raw = buf.slice(offset, offset + length);
  const payload = masked ? maskFrom(raw, buf.subarray(keyAt, keyAt + 4)) : raw;
  return { frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 0b111, opcode: b0 & 0x0f, payload }, size: offset + length };
}
