/** Message handlers: what one is, and the connection it is handed. */
import type { Identity } from '../auth/verifier.ts';
import type { InboundMessage, OutboundMessage } from '../protocol/messages.ts';
import type { Logger } from '../logging/logger.ts';

/** What a handler may do with the connection it serves. */
export interface HandlerContext {
  readonly connectionId: string;
  readonly identity: Identity;
  readonly logger: Logger;
  /** True once the socket has closed; sends are then dropped. */
  readonly closed: boolean;
  send(message: OutboundMessage): void;
  /** Runs once when the socket closes (release what the handler acquired for it). */
  onClose(callback: () => void): void;
}

/**
 * Handles one authenticated message. The next message of the same socket is not handled until
 * the returned promise settles, so handlers see messages in order. A throw becomes an
 * `handler_failed` error reply; the socket stays open.
 */
export type Handler = (message: InboundMessage, ctx: HandlerContext) => void | Promise<void>;

export type Handlers = Readonly<Record<string, Handler>>;
