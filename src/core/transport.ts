/**
 * The socket as the driver sees it. Built from Hono's WSContext by duck typing on `ws.raw`, so
 * every runtime gets slow-consumer detection without the library importing any runtime:
 * Bun's ServerWebSocket has `getBufferedAmount()` and its `send()` returns 0 when it DROPPED the
 * message; `ws` (Node) and Deno's WebSocket expose `bufferedAmount`.
 */
import type { WSContext } from 'hono/ws';

export type SendOutcome = 'sent' | 'dropped';

export interface SocketPort {
  send(text: string): SendOutcome;
  close(code: number, reason: string): void;
  /** Bytes accepted by send() but not yet written to the network. */
  bufferedAmount(): number;
}

interface RawSocketLike {
  readonly bufferedAmount?: unknown;
  getBufferedAmount?: () => number;
  send?: (data: string) => unknown;
}

export function socketPortFor(ws: WSContext): SocketPort {
  const raw = ws.raw as RawSocketLike | undefined;
  const close = (code: number, reason: string) => ws.close(code, reason);
  if (raw !== undefined && typeof raw.getBufferedAmount === 'function' && typeof raw.send === 'function') {
    const bun = raw as Required<Pick<RawSocketLike, 'getBufferedAmount' | 'send'>>;
    return {
      send: (text) => (bun.send(text) === 0 ? 'dropped' : 'sent'),
      close,
      bufferedAmount: () => bun.getBufferedAmount(),
    };
  }
  return {
    send: (text) => {
      ws.send(text);
      return 'sent';
    },
    close,
    bufferedAmount: () => (typeof raw?.bufferedAmount === 'number' ? raw.bufferedAmount : 0),
  };
}
