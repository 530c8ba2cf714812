/** A raw WebSocket client on top of RawConn: parses what the server sends, answers pings (unless told not to), reports how it ended. */
import { text, utf8 } from './bytes.ts';
import type { RawConn } from './conn.ts';
import { buildFrame, frameSize, Opcode, parseFrame, type Frame, type FrameSpec } from './frames.ts';

const MAX_KEPT = 64 * 1024;

export interface CloseResult {
  /** The server's close code; 1005 for an empty close frame; 1006 for EOF/reset without one; null while still open. */
  readonly code: number | null;
  /** The close frame's reason; for 1006, the socket's error code (ECONNRESET, …) when it failed. */
  readonly reason: string;
  readonly via: 'close-frame' | 'eof' | 'open';
  /** Milliseconds from `since` (a performance.now() time) to the close, or to the end of the wait. */
  readonly ms: number;
}

export const describeClose = (c: CloseResult): string =>
  c.code === null
    ? `still open after ${c.ms} ms`
    : `${c.code}${c.reason ? ` "${c.reason.slice(0, 60)}"` : ''} after ${c.ms} ms${c.via === 'eof' ? ' (connection dropped, no close frame)' : ''}`;

export class RawWebSocket {
  /** Data frames (text, binary, continuation), in order. */
  readonly frames: Frame[] = [];
  pingsReceived = 0;
  pongsReceived = 0;
  dataBytesReceived = 0;
  close: { code: number; reason: string; at: number } | undefined;
  /** Answer the server's pings; off for a client that plays dead. */
  autoPong = true;
  /** The server sent something this parser cannot read (an absurd length). */
  parseError: string | undefined;

  constructor(readonly conn: RawConn) {
    conn.addParser(() => this.#drain());
    this.#drain();
  }

  #drain(): void {
    while (this.parseError === undefined) {
      let size: number | undefined;
      try {
        size = frameSize(this.conn.peek(14));
      } catch (error) {
        this.parseError = String(error);
        return;
      }
      if (size === undefined || this.conn.available < size) return;
      const { frame } = parseFrame(this.conn.take(size))!;
      if (frame.opcode === Opcode.ping) {
        this.pingsReceived++;
        if (this.autoPong && !this.close) void this.conn.write(buildFrame({ opcode: Opcode.pong, payload: frame.payload }));
      } else if (frame.opcode === Opcode.close) {
        if (!this.close) {
          const view = new DataView(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength);
          const code = frame.payload.length >= 2 ? view.getUint16(0) : 1005;
          this.close = { code, reason: text(frame.payload.subarray(2)), at: performance.now() };
          // Complete the closing handshake like a real client, then stop writing.
          void this.conn
            .write(buildFrame({ opcode: Opcode.close, payload: frame.payload.subarray(0, 2) }))
            .then(() => this.conn.socket.end());
        }
      } else if (frame.opcode === Opcode.pong) {
        this.pongsReceived++;
      } else {
        this.dataBytesReceived += frame.payload.length;
        // Keep what evidence and JSON replies need, not megabytes of echoed padding.
        this.frames.push(frame.payload.length > MAX_KEPT ? { ...frame, payload: frame.payload.slice(0, MAX_KEPT) } : frame);
      }
    }
  }

  send(spec: FrameSpec): Promise<boolean> {
    return this.conn.write(buildFrame(spec));
  }

  sendText(message: string): Promise<boolean> {
    return this.send({ opcode: Opcode.text, payload: utf8(message) });
  }

  sendJson(message: unknown): Promise<boolean> {
    return this.sendText(JSON.stringify(message));
  }

  /** Bytes as they are: frames built by hand, several at once, or half of one. */
  sendRaw(bytes: Uint8Array): Promise<boolean> {
    return this.conn.write(bytes);
  }

  /** The server closed (close frame) or the connection ended. */
  get ended(): boolean {
    return this.close !== undefined || this.conn.ended;
  }

  /** The next text message after index `from` matching `where` (default: any), parsed as JSON; undefined on timeout or close. */
  message(
    where: (m: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 5_000,
    from = 0,
  ): Promise<Record<string, unknown> | undefined> {
    let seen = from;
    return this.conn.until(() => {
      for (; seen < this.frames.length; seen++) {
        const frame = this.frames[seen]!;
        if (frame.opcode !== Opcode.text) continue;
        try {
          const parsed = JSON.parse(text(frame.payload)) as unknown;
          if (parsed !== null && typeof parsed === 'object' && where(parsed as Record<string, unknown>))
            return parsed as Record<string, unknown>;
        } catch {
          // not JSON
        }
      }
      return undefined;
    }, timeoutMs);
  }

  /** Waits up to `timeoutMs` for the server's close frame or the end of the connection; reads meanwhile. `since` is a performance.now() time. */
  async closeResult(timeoutMs: number, since = performance.now()): Promise<CloseResult> {
    this.conn.resume();
    await this.conn.until(() => (this.close || this.conn.ended ? true : undefined), timeoutMs);
    const now = performance.now();
    if (this.close) return { code: this.close.code, reason: this.close.reason, via: 'close-frame', ms: Math.round(this.close.at - since) };
    // No close frame: the reason is how the connection ended (ECONNRESET, EPIPE), when it failed.
    if (this.conn.ended)
      return { code: 1006, reason: this.conn.errorCode ?? '', via: 'eof', ms: Math.round((this.conn.closedAt ?? now) - since) };
    return { code: null, reason: '', via: 'open', ms: Math.round(now - since) };
  }

  /**
   * Like closeResult, but stops waiting early once `done()` (e.g. the answer arrived), after a
   * short `graceMs` for a close that follows the answer.
   */
  async closeOr(done: () => boolean, timeoutMs: number, since = performance.now(), graceMs = 200): Promise<CloseResult> {
    const started = performance.now();
    this.conn.resume();
    await this.conn.until(() => (this.close || this.conn.ended || done() ? true : undefined), timeoutMs);
    return this.closeResult(Math.min(graceMs, Math.max(0, timeoutMs - (performance.now() - started))), since);
  }

  destroy(): void {
    this.conn.destroy();
  }
}
