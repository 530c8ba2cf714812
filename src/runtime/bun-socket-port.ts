/**
 * Bun's ServerWebSocket as the gateway's SocketPort. Web-standard code (no Bun globals), so the
 * deferred close is unit-tested under Node (test/unit/transport.test.ts).
 */
import type { SendOutcome, SocketPort, SocketReceiver, SocketSession } from '../core/socket-port.ts';
import type { Pingable } from './heartbeat.ts';

/** What the port uses of Bun's ServerWebSocket. */
export interface BunSocketLike {
  readonly readyState: number;
  send(data: string): number;
  close(code: number, reason: string): void;
  terminate(): void;
  getBufferedAmount(): number;
  ping?(): unknown;
}

/** Until the socket opens, a port has no socket: nothing is open, sent or buffered. */
const NOT_OPEN: BunSocketLike = { readyState: 0, send: () => 0, close() {}, terminate() {}, getBufferedAmount: () => 0 };

/** What publishes to Bun's topics: the listener the socket belongs to (see bun-topics.ts). */
export interface TopicPublisher {
  /** `Bun.Server.publish`. */
  publish(topic: string, data: string): number;
  /** The listener's `backpressureLimit`: past it, Bun drops what is sent to a socket. */
  readonly backpressureLimit: number;
}

/** Bun's ServerWebSocket `readyState` while it is open. */
const BUN_OPEN = 1;
/** How often a deferred close looks at the send buffer again. */
const FLUSH_POLL_MS = 50;
/**
 * How long a close waits for unsent data to go out before the connection is dropped instead. A
 * slow consumer is dropped sooner, by the connection's own timer (connection.ts).
 */
const FLUSH_LIMIT_MS = 5_000;

/**
 * A close is held back while Bun still has unsent data for the socket. Bun's `close()` reports the
 * socket closed at once (its close handler runs inside the call) and makes `terminate()` a no-op,
 * while uWS keeps the TCP connection and its send queue until the peer answers the close frame
 * queued behind that data or a timeout passes — 12–14 s measured for a reader that stopped
 * reading. Held back, the close goes out once the data has, and until then `terminate()` can still
 * drop the connection (the slow-consumer path relies on it), with the same bound on every runtime.
 *
 * On Bun the port is also the socket's whole JS state (its `ws.data`, bun.ts) and the heartbeat's
 * node: one object per socket.
 */
export class BunSocketPort implements SocketPort, Pingable {
  #closing = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** From the upgrade until the socket opens: the gateway's session of the upgrade. */
  session: SocketSession | undefined = undefined;
  /** Once open: where its frames and its close go. */
  receiver: SocketReceiver | undefined = undefined;
  beatList: Pingable['beatList'] = undefined;
  beatPrev: Pingable | undefined = undefined;
  beatNext: Pingable | undefined = undefined;
  beatAt = 0;

  constructor(
    public raw: BunSocketLike = NOT_OPEN,
    /** The server whose topics this socket can join (absent: it sends one by one). */
    public publisher?: TopicPublisher,
  ) {}

  /** The socket opened (the port was made at the upgrade, before it existed). */
  attach(raw: BunSocketLike, publisher: TopicPublisher): void {
    this.raw = raw;
    this.publisher = publisher;
  }

  ping(): void {
    this.raw.ping?.();
  }

  // Bun: the payload's UTF-8 bytes when written (> 0; measured equal to Buffer.byteLength, lone
  // surrogates as 3), -1 queued behind backpressure, 0 dropped (a text is never empty: JSON).
  send(text: string): SendOutcome {
    const result = this.raw.send(text);
    return result > 0 ? result : result === 0 ? 'dropped' : 'sent';
  }
  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.raw.getBufferedAmount() === 0) {
      this.raw.close(code, reason);
      return;
    }
    const deadline = Date.now() + FLUSH_LIMIT_MS;
    const retry = () => {
      this.#flushTimer = undefined;
      if (this.raw.readyState !== BUN_OPEN) return; // gone meanwhile (peer, heartbeat, terminate)
      if (this.raw.getBufferedAmount() === 0) this.raw.close(code, reason);
      else if (Date.now() >= deadline) this.raw.terminate();
      else this.#flushTimer = setTimeout(retry, FLUSH_POLL_MS);
    };
    this.#flushTimer = setTimeout(retry, FLUSH_POLL_MS);
  }
  terminate(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.raw.terminate();
  }
  bufferedAmount(): number {
    return this.raw.getBufferedAmount();
  }
}
