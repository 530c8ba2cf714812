/**
 * Node's (and Deno's) fan-out for `ws` sockets: a text sent to a topic is framed once, with `ws`'s
 * public `Sender.frame`, and the same bytes are written to every subscribed socket's connection,
 * instead of one `ws.send` per socket (each framing, UTF-8-encoding and corking the text again).
 */
import { Buffer } from 'node:buffer';
import * as wsModule from 'ws';
import type { SocketPort, SocketTopics } from '../core/socket-port.ts';
import { WsSocketPort } from './ws-socket-port.ts';

/** `ws`'s exported Sender (not in @types/ws): frame(data, options) → [header, payload] (unmasked). */
interface FrameOptions {
  readonly fin: boolean;
  readonly opcode: number;
  readonly mask: boolean;
  readonly readOnly: boolean;
  readonly rsv1: boolean;
}
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };
const TEXT_FRAME: FrameOptions = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };

/** One text frame (header and payload in one buffer, for one write per socket). */
export function textFrame(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text), TEXT_FRAME);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

export class WsTopics implements SocketTopics {
  readonly #topics = new Map<string, Set<WsSocketPort>>();

  subscribe(port: SocketPort, topic: string): boolean {
    if (!(port instanceof WsSocketPort) || !port.takesFrames()) return false;
    let ports = this.#topics.get(topic);
    if (ports === undefined) this.#topics.set(topic, (ports = new Set()));
    ports.add(port);
    return true;
  }

  unsubscribe(port: SocketPort, topic: string): void {
    const ports = this.#topics.get(topic);
    if (ports?.delete(port as WsSocketPort) && ports.size === 0) this.#topics.delete(topic);
  }

  publish(topic: string, text: string, maxBufferedBytes: number): boolean {
    const ports = this.#topics.get(topic);
    if (ports === undefined) return true;
    const frame = textFrame(text);
    let within = true;
    for (const port of ports) {
      port.writeFrame(frame);
      if (port.bufferedAmount() > maxBufferedBytes) within = false;
    }
    return within;
  }
}
