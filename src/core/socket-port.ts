/**
 * What a runtime adapter and the gateway exchange, the same on every runtime: per socket, a port
 * the gateway sends and closes through, and a receiver the adapter feeds frames and the close to.
 * The adapters (src/runtime/*, and the library's generic Hono one) hold every runtime detail.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Frame } from '../protocol/messages.ts';

/**
 * `sent`: accepted, possibly buffered (check bufferedAmount); `dropped`: not sent; a number: written
 * to the network whole, nothing is buffered, and that many bytes of UTF-8 payload (Bun says both;
 * saves two calls per message: the buffer check and the byte count).
 */
export type SendOutcome = 'sent' | 'dropped' | number;

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

/**
 * A runtime's own fan-out (optional): sockets subscribed to a topic all get a text sent to the
 * topic by one call, its frame built once (Bun: native topics; Node: one frame written to every
 * socket). Only ports this runtime made can subscribe.
 */
export interface SocketTopics {
  /** False when the port cannot take part (not this runtime's, or not open): send to it one by one. */
  subscribe(port: SocketPort, topic: string): boolean;
  /** Idempotent; also after the socket closed. */
  unsubscribe(port: SocketPort, topic: string): void;
  /**
   * Sends `text` to every socket subscribed to `topic`. False when some socket's send buffer may be
   * past `maxBufferedBytes` or may have missed this text because of it: the caller then checks each
   * subscriber's `bufferedAmount()` in the same tick and closes the slow consumers.
   */
  publish(topic: string, text: string, maxBufferedBytes: number): boolean;
}

/** A runtime's WebSocket upgrade, in the gateway's terms. */
export interface SocketRuntime {
  /**
   * The WebSocket route's handler: `accept(c)` runs for every request on the route (read headers
   * only) and returns its session; a request that is no upgrade goes on to the next handler.
   */
  upgrade(accept: (c: Context) => SocketSession): MiddlewareHandler;
  /** The runtime's own fan-out, where it has one (channel deliveries use it; else one send per socket). */
  readonly topics?: SocketTopics;
}
