/** Hand-built WebSocket frames and a raw WebSocket client on top of RawConn. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { acceptFor, describeOutcome, randomKey, sendRequest, upgradeRequest, type Endpoint, type RawConn } from './raw-conn.ts';

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
export const RSV1 = 0b100;
export const RSV2 = 0b010;
export const RSV3 = 0b001;

export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Buffer | string;
  /** default true */
  readonly fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 0b100). */
  readonly rsv?: number;
  /** Client frames must be masked; default true. */
  readonly mask?: boolean;
  /** Force the length encoding (7, 16 or 64 bit); default: the shortest that fits. */
  readonly lengthForm?: 7 | 16 | 64;
  /** Write this length in the header instead of the payload's real length (64-bit form). */
  readonly declaredLength?: bigint;
}

export function buildFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : (spec.payload ?? Buffer.alloc(0));
  const mask = spec.mask ?? true;
  const length = spec.declaredLength ?? BigInt(payload.length);
  const form = spec.declaredLength !== undefined ? 64 : (spec.lengthForm ?? (length < 126n ? 7 : length < 65_536n ? 16 : 64));
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  let lengthBytes = Buffer.alloc(0);
  if (form === 7) {
    assert.ok(length < 126n, '7-bit length must be < 126');
    head.push(maskBit | Number(length));
  } else if (form === 16) {
    head.push(maskBit | 126);
    lengthBytes = Buffer.alloc(2);
    lengthBytes.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    lengthBytes = Buffer.alloc(8);
    lengthBytes.writeBigUInt64BE(length);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), lengthBytes, payload]);
  const key = randomBytes(4);
  const masked = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([Buffer.from(head), lengthBytes, key, masked]);
}

export const textFrame = (payload: string | Buffer, extra: Partial<FrameSpec> = {}) =>
  buildFrame({ opcode: Opcode.text, payload, ...extra });

export interface Frame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Parses one frame at the start of `buf`; undefined when incomplete. */
export function parseFrame(buf: Buffer): { frame: Frame; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  let offset = 2;
  let length = b1 & 0x7f;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('server sent an absurd frame length');
    length = Number(big);
    offset = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  const keyAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  let payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) {
    const key = buf.subarray(keyAt, keyAt + 4);
    payload = Buffer.from(payload.map((byte, i) => byte ^ key[i & 3]!));
  }
  return { frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 0b111, opcode: b0 & 0x0f, payload }, size: offset + length };
}

// ---------------------------------------------------------------------------------------------
// A raw WebSocket client on top of RawConn
// ---------------------------------------------------------------------------------------------

export interface CloseResult {
  /** The code in the server's close frame; 1005 for an empty close frame; 1006 for EOF/reset without one; null on timeout. */
  readonly code: number | null;
  readonly reason: string;
  readonly via: 'close-frame' | 'eof' | 'timeout';
  /** Milliseconds from the call (or `since`) to the close. */
  readonly ms: number;
}

export const describeClose = (c: CloseResult) =>
  c.code === null ? `still open after ${c.ms} ms` : `${c.code}${c.reason ? ` "${c.reason}"` : ''} (${c.via}, ${c.ms} ms)`;

export class RawWebSocket {
  readonly conn: RawConn;
  /** Data frames received (text, binary, continuation), in order. */
  readonly frames: Frame[] = [];
  pingsReceived = 0;
  close: { code: number; reason: string; at: number } | undefined;
  /** Answer the server's heartbeat pings (on by default; a "never reads" client turns reading off entirely). */
  autoPong = true;
  #parseError: string | undefined;

  constructor(conn: RawConn) {
    this.conn = conn;
    conn.addParser(() => this.#drain());
    this.#drain();
  }

  #drain(): void {
    if (this.#parseError) return;
    for (;;) {
      let parsed: ReturnType<typeof parseFrame>;
      try {
        parsed = parseFrame(this.conn.buffer);
      } catch (error) {
        this.#parseError = String(error);
        return;
      }
      if (!parsed) return;
      this.conn.take(parsed.size);
      const { frame } = parsed;
      if (frame.opcode === Opcode.ping) {
        this.pingsReceived++;
        if (this.autoPong && !this.close) void this.conn.write(buildFrame({ opcode: Opcode.pong, payload: frame.payload }));
      } else if (frame.opcode === Opcode.pong) {
        // ignore
      } else if (frame.opcode === Opcode.close) {
        if (!this.close) {
          const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
          this.close = { code, reason: frame.payload.subarray(2).toString('utf8'), at: Date.now() };
          // Complete the closing handshake like a real client.
          void this.conn
            .write(buildFrame({ opcode: Opcode.close, payload: frame.payload.subarray(0, 2) }))
            .then(() => this.conn.socket.end());
        }
      } else {
        this.frames.push(frame);
      }
    }
  }

  send(spec: FrameSpec): Promise<boolean> {
    return this.conn.write(buildFrame(spec));
  }

  sendRaw(bytes: Buffer): Promise<boolean> {
    return this.conn.write(bytes);
  }

  sendJson(message: unknown): Promise<boolean> {
    return this.send({ opcode: Opcode.text, payload: JSON.stringify(message) });
  }

  /** The next text message whose JSON matches `where` (default any), parsed; undefined on timeout/close. */
  async message(
    where: (m: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<Record<string, unknown> | undefined> {
    let seen = 0;
    return this.conn.until(() => {
      for (; seen < this.frames.length; seen++) {
        const frame = this.frames[seen]!;
        if (frame.opcode !== Opcode.text) continue;
        try {
          const parsed = JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>;
          if (where(parsed)) return parsed;
        } catch {
          // not JSON: skip
        }
      }
      return undefined;
    }, timeoutMs);
  }

  /** Waits for the server's close frame or the end of the connection. */
  async closeResult(timeoutMs = 5_000, since = Date.now()): Promise<CloseResult> {
    this.conn.resume();
    await this.conn.until(() => (this.close || this.conn.closed || this.conn.sawEof ? true : undefined), timeoutMs);
    const now = Date.now();
    if (this.close) return { code: this.close.code, reason: this.close.reason, via: 'close-frame', ms: this.close.at - since };
    if (this.conn.closed || this.conn.sawEof) {
      this.conn.destroy();
      return { code: 1006, reason: this.conn.errorCode ?? '', via: 'eof', ms: (this.conn.closedAt ?? now) - since };
    }
    return { code: null, reason: '', via: 'timeout', ms: now - since };
  }

  destroy(): void {
    this.conn.destroy();
  }
}

export interface OpenOptions {
  readonly origin?: string | null;
  readonly path?: string;
  readonly timeoutMs?: number;
}

/** A valid handshake over a raw socket; asserts the 101 and the accept key. */
export async function openRawWebSocket(endpoint: Endpoint, options: OpenOptions = {}): Promise<RawWebSocket> {
  const key = randomKey();
  const host = `${endpoint.host}:${endpoint.port}`;
  const { conn, outcome } = await sendRequest(
    endpoint,
    upgradeRequest({ host, key, origin: options.origin, path: options.path }),
    options.timeoutMs ?? 5_000,
  );
  if (outcome.kind !== 'response' || outcome.status !== 101) {
    conn.destroy();
    throw new Error(`raw upgrade refused: ${describeOutcome(outcome)}`);
  }
  assert.equal(outcome.headers['sec-websocket-accept'], acceptFor(key), 'Sec-WebSocket-Accept');
  return new RawWebSocket(conn);
}

/** Completes a valid handshake, sends the auth frame and waits for auth.ok. */
export async function openAuthenticatedRaw(endpoint: Endpoint, ticket: string, options: OpenOptions = {}): Promise<RawWebSocket> {
  const ws = await openRawWebSocket(endpoint, options);
  await ws.sendJson({ type: 'auth', ticket });
  const ok = await ws.message((m) => m.type === 'auth.ok', options.timeoutMs ?? 5_000);
  if (!ok) {
    const closed = await ws.closeResult(100);
    ws.destroy();
    throw new Error(`raw auth failed: ${describeClose(closed)}`);
  }
  return ws;
}
