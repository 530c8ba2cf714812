/**
 * A SocketRuntime from any Hono `upgradeWebSocket` helper (`hono/bun`, `hono/deno`, node-server's),
 * for library users who serve with their runtime's own helper. Frames come through Hono's
 * `onMessage`. The send buffer is the runtime socket's standard `bufferedAmount` where it has one
 * (Deno's WebSocket, `ws`); Bun's ServerWebSocket has none, so a slow consumer is only caught by
 * the runtime itself there (`Bun.serve`'s `backpressureLimit`). `hardened-ws/node` is the
 * adapter the server runs on.
 */
import type { Context } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import type { SendOutcome, SocketPort, SocketReceiver, SocketRuntime } from '../core/socket-port.ts';
import { toFrame } from '../protocol/frames.ts';

/** Hono's WSContext as the gateway's port. */
class WSContextPort implements SocketPort {
  constructor(private readonly ws: WSContext) {}

  send(text: string): SendOutcome {
    this.ws.send(text);
    return 'sent';
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  bufferedAmount(): number {
    const buffered = (this.ws.raw as { bufferedAmount?: unknown } | undefined)?.bufferedAmount;
    return typeof buffered === 'number' ? buffered : 0;
  }
  /** Hono's context has no way to drop a connection: a close is the most it can do. */
  terminate(): void {
    this.ws.close(1011, 'terminated');
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function honoSocketRuntime(upgradeWebSocket: UpgradeWebSocket<any, any>): SocketRuntime {
  return {
    upgrade: (accept) =>
      upgradeWebSocket((c: Context) => {
        const session = accept(c);
        let receiver: SocketReceiver | undefined;
        return {
          onOpen(_event: Event, ws: WSContext) {
            receiver = session.opened(new WSContextPort(ws));
          },
          onMessage(event: MessageEvent) {
            receiver?.receive(toFrame(event.data));
          },
          onClose(event: CloseEvent) {
            if (receiver === undefined) session.abandoned();
            else receiver.peerClosed(event.code);
          },
        };
      }),
  };
}
