/**
 * The socket as the driver sees it. Built from Hono's WSContext by duck typing on `ws.raw`, so
 * every runtime gets slow-consumer detection without the library importing any runtime:
 * Bun's ServerWebSocket has `getBufferedAmount()` and its `send()` returns 0 when it DROPPED the
 * message; `ws` (Node) and Deno's WebSocket expose `bufferedAmount`.
 */
import type { WSContext } from 'hono/ws';
import type { Frame } from '../protocol/messages.ts';

/**
 * `sent`: accepted, possibly buffered (check bufferedAmount); `flushed`: written to the network
 * whole, nothing is buffered (Bun says so; saves a call per message); `dropped`: not sent.
 */
export type SendOutcome = 'sent' | 'flushed' | 'dropped';

export interface SocketPort {
  send(text: string): SendOutcome;
  close(code: number, reason: string): void;
  /** Bytes accepted by send() but not yet written to the network. */
  bufferedAmount(): number;
  /** Drops the connection without waiting for the peer's close frame (where the runtime can). */
  terminate(): void;
}

interface RawSocketLike {
  readonly bufferedAmount?: unknown;
  readonly readyState?: unknown;
  getBufferedAmount?: () => number;
  send?: (data: string) => unknown;
  close?: (code: number, reason: string) => void;
  terminate?: () => void;
}
type BunSocketLike = Required<Pick<RawSocketLike, 'getBufferedAmount' | 'send' | 'close' | 'terminate'>> & { readonly readyState: number };

export function socketPortFor(ws: WSContext): SocketPort {
  const raw = ws.raw as RawSocketLike | undefined;
  if (
    raw !== undefined &&
    typeof raw.getBufferedAmount === 'function' &&
    typeof raw.send === 'function' &&
    typeof raw.close === 'function' &&
    typeof raw.terminate === 'function' &&
    typeof raw.readyState === 'number'
  ) {
    return new BunSocketPort(raw as BunSocketLike);
  }
  return new StandardSocketPort(ws, raw);
}

/** Classes rather than closures: an idle server holds one of these per socket. */
class StandardSocketPort implements SocketPort {
  constructor(
    private readonly ws: WSContext,
    private readonly raw: RawSocketLike | undefined,
  ) {}

  send(text: string): SendOutcome {
    // The runtime's socket directly where it has send() (ws, Deno): the adapter's wrapper adds an
    // options object and a call per message.
    if (typeof this.raw?.send === 'function') this.raw.send(text);
    else this.ws.send(text);
    return 'sent';
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  // ws (Node) has terminate(); Deno closes its TCP connection promptly on its own.
  terminate(): void {
    if (typeof this.raw?.terminate === 'function') this.raw.terminate();
  }
  bufferedAmount(): number {
    return typeof this.raw?.bufferedAmount === 'number' ? this.raw.bufferedAmount : 0;
  }
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
 * Bun's ServerWebSocket directly: hono/bun's WSContext (and the URL it holds) need not stay alive.
 *
 * A close is held back while Bun still has unsent data for the socket. Bun's `close()` reports the
 * socket closed at once (its close handler runs inside the call) and makes `terminate()` a no-op,
 * while uWS keeps the TCP connection and its send queue until the peer answers the close frame
 * queued behind that data or a timeout passes — 12–14 s measured for a reader that stopped
 * reading. Held back, the close goes out once the data has, and until then `terminate()` can still
 * drop the connection (the slow-consumer path relies on it), with the same bound on every runtime.
 */
class BunSocketPort implements SocketPort {
  #closing = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly raw: BunSocketLike) {}

  // Bun: bytes written (> 0), -1 queued behind backpressure, 0 dropped.
  send(text: string): SendOutcome {
    const result = this.raw.send(text) as number;
    return result > 0 ? 'flushed' : result === 0 ? 'dropped' : 'sent';
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

/**
 * A runtime's own message listener, used instead of the Hono adapter's `onMessage`: the adapters
 * build a `MessageEvent` (and on Bun a `WSContext`) per message, which costs more than the rest of
 * an echo. Given one, the gateway registers no `onMessage` and attaches in `onOpen`, before the
 * runtime can deliver the socket's first message.
 */
export interface MessageTap {
  attach(ws: WSContext, receive: (frame: Frame) => void): void;
}
