/**
 * What a runtime adapter and the gateway exchange, the same on every runtime: per socket, a port
 * the gateway sends and closes through, and a receiver the adapter feeds frames and the close to.
 * The adapters (src/runtime/*, and the library's generic Hono one) hold every runtime detail.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Frame } from '../protocol/messages.ts';

/**
 * `sent`: accepted, possibly buffered (check bufferedAmount); `flushed`: written to the network
 * whole, nothing is buffered (Bun says so; saves a call per message); `dropped`: not sent.
 */
export type SendOutcome = 'sent' | 'flushed' | 'dropped';

/** The socket as the gateway sees it. */
export interface SocketPort {
  send(text: string): SendOutcome;
  close(code: number, reason: string): void;
  /** Bytes accepted by send() but not yet written to the network. */
  bufferedAmount(): number;
  /** Drops the connection without waiting for the peer's close frame (where the runtime can). */
  terminate(): void;
}

/** Where an open socket's frames and its end go. */
export interface SocketReceiver {
  receive(frame: Frame): void;
  /** The socket closed, whoever started it; `code` as the runtime reports it. Called once. */
  peerClosed(code: number): void;
}

/** One upgrade request's socket, as the gateway accepted it before the upgrade. */
export interface SocketSession {
  /** The socket is open: its port in, the receiver of its frames out. */
  opened(port: SocketPort): SocketReceiver;
  /** No socket will open for this request (refused, failed, closed before open). */
  abandoned(): void;
}

/** A runtime's WebSocket upgrade, in the gateway's terms. */
export interface SocketRuntime {
  /**
   * The WebSocket route's handler: `accept(c)` runs for every request on the route (read headers
   * only) and returns its session; a request that is no upgrade goes on to the next handler.
   */
  upgrade(accept: (c: Context) => SocketSession): MiddlewareHandler;
}
