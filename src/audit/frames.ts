/** Hand-built WebSocket frames (any opcode, RSV bits, FIN, mask, length form) and a frame parser; RFC 6455 §5.2. */
import { utf8 } from './bytes.ts';

export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
export const RSV1 = 0b100;
export const RSV2 = 0b010;
export const RSV3 = 0b001;

/** The payload length field (RFC 6455 §5.2): 7 bits, 16 bits (after 126) or 64 bits (after 127). */
export type LengthForm = 7 | 16 | 64;

export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  /** default true */
  readonly fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 0b100). */
  readonly rsv?: number;
  /** Client frames must be masked; default true. */
  readonly mask?: boolean;
  /**
   * Declare this payload length instead of the real one: to send a frame's payload in pieces, or to
   * claim a length no payload follows (a bigint reaches 2^63 and past, which RFC 6455 forbids).
   */
  readonly declaredLength?: number | bigint;
  /** The length field's form; default the shortest that holds the length (a longer one is not minimal, which RFC 6455 §5.2 forbids). */
  readonly lengthForm?: LengthForm;
}

/** One past the largest length each form can carry. */
const FORM_LIMIT: Record<LengthForm, number> = { 7: 126, 16: 65_536, 64: 2 ** 64 };
const shortestForm = (length: number | bigint): LengthForm => (length < 126 ? 7 : length < 65_536 ? 16 : 64);

/**
 * Masking keys are cut from a pool of random bytes refilled 16 KiB at a time: a getRandomValues
 * call per key costs more than building the rest of a small frame (200,000 fragments are sent in
 * one go). They stay unpredictable, as RFC 6455 §10.3 asks.
 */
const keyPool = new Uint8Array(16 * 1024);
let keyPoolAt = keyPool.length;

function nextKey(): Uint8Array {
  if (keyPoolAt === keyPool.length) {
    crypto.getRandomValues(keyPool);
    keyPoolAt = 0;
  }
  keyPoolAt += 4;
  return keyPool.subarray(keyPoolAt - 4, keyPoolAt);
}

/** The header of a (masked) frame and the masking key, for payloads sent in pieces with `maskFrom`. */
export function frameHeader(spec: Omit<FrameSpec, 'payload' | 'declaredLength'> & { readonly length: number | bigint }): {
  header: Uint8Array;
  key: Uint8Array | null;
} {
  const mask = spec.mask ?? true;
  const length = spec.length;
  const form = spec.lengthForm ?? shortestForm(length);
  if (length < 0 || length >= FORM_LIMIT[form] || (typeof length === 'number' && !Number.isInteger(length)))
    throw new RangeError(`a length of ${length} does not fit the ${form}-bit length form`);
  const lengthBytes = form === 7 ? 0 : form === 16 ? 2 : 8;
  const header = new Uint8Array(2 + lengthBytes + (mask ? 4 : 0));
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f);
  if (form === 7) header[1] = Number(length);
  else if (form === 16) {
    header[1] = 126;
    header[2] = Number(length) >> 8;
    header[3] = Number(length) & 0xff;
  } else {
    header[1] = 127;
    new DataView(header.buffer).setBigUint64(2, BigInt(length));
  }
  if (!mask) return { header, key: null };
  header[1]! |= 0x80;
  header.set(nextKey(), 2 + lengthBytes);
  return { header, key: header.subarray(2 + lengthBytes) };
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
