/** A `ws` socket as the gateway's port (Node and Deno), and the socket class our `ws` server makes. */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import type { SendOutcome, SocketPort, SocketReceiver } from '../core/socket-port.ts';

/**
 * `terminate()` (a dead peer, a slow consumer, the end of a drain) resets the connection. ws
 * destroys the socket, after which Linux keeps the connection, orphaned, with everything the peer
 * has not read: ~4 MB for a reader that stopped, held for minutes (over 148 s measured) while the
 * peer keeps acknowledging with a zero window, beyond every per-IP and per-user cap. A reset (RST)
 * frees it at once. A TLS socket has no TCP handle to reset (Node throws): it is destroyed as
 * before; so is a socket where the runtime has no `resetAndDestroy`.
 */
export class ResettingWebSocket extends WebSocket {
  /** Set on 'connection' from the upgrade request (node-server emits it with the request). */
  tcp: Socket | undefined;
  /** The gateway's receiver once open, read by the shared listeners of ws-listener.ts (no closure per socket). */
  receiver: SocketReceiver | undefined;

  override terminate(): void {
    const tcp = this.tcp;
    if (tcp !== undefined && !tcp.destroyed && !(tcp instanceof TLSSocket) && typeof tcp.resetAndDestroy === 'function')
      tcp.resetAndDestroy();
    super.terminate();
  }
}

/**
 * Sends of one tick leave in one write: the first corks the connection and a `nextTick` uncorks it,
 * so the replies to the messages of one read (a client that pipelines) cost one `writev`, not one
 * each (Bun's uWS corks the same way). Past CORK_FLUSH_BYTES the cork is lifted at once, so what
 * it holds stays small beside --max-buffered and `bufferedAmount` is the peer's real backlog
 * whenever the gateway checks it; a close or a terminate lifts it first, so nothing corked is
 * lost behind them.
 */
const CORK_FLUSH_BYTES = 16 * 1024;

function uncork(port: WsSocketPort): void {
  port.uncork();
}

/** `ws`'s WebSocket as the gateway's port. A class, not closures: an idle server holds one per socket. */
export class WsSocketPort implements SocketPort {
  #corked = false;

  constructor(readonly raw: ResettingWebSocket) {}

  send(text: string): SendOutcome {
    const tcp = this.raw.tcp;
    if (!this.#corked && tcp !== undefined && this.raw.readyState === WebSocket.OPEN) {
      tcp.cork();
      this.#corked = true;
      process.nextTick(uncork, this);
    }
    this.raw.send(text);
    if (this.#corked && tcp!.writableLength > CORK_FLUSH_BYTES) this.uncork();
    return 'sent';
  }
  close(code: number, reason: string): void {
    this.uncork();
    this.raw.close(code, reason);
  }
  bufferedAmount(): number {
    return this.raw.bufferedAmount;
  }
  terminate(): void {
    this.uncork();
    this.raw.terminate();
  }

  /** Writes what this tick's sends corked (idempotent). */
  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.raw.tcp!.uncork();
  }

  /**
   * Whether a frame built once for many sockets (ws-topics.ts) can be written to this one as is:
   * open, its connection known, and no extension negotiated (a compressed socket frames its own).
   */
  takesFrames(): boolean {
    return this.raw.readyState === WebSocket.OPEN && this.raw.tcp !== undefined && this.raw.extensions === '';
  }

  /**
   * Writes a complete unmasked frame to the connection: what `ws`'s send does once it has framed a
   * text (its Sender writes each frame whole and queues nothing without compression or Blobs, so a
   * frame written here never splits one of its own). Nothing once the socket is closing: `ws`
   * would not send then either. Counted in `bufferedAmount` (the connection's writable length).
   */
  writeFrame(frame: Buffer): void {
    if (this.raw.readyState === WebSocket.OPEN) this.raw.tcp!.write(frame);
  }
}
