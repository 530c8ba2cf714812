/**
 * Frames the app sent before `auth.ok`, flushed in order once the socket is authenticated. Bounded:
 * an app that keeps sending while the server is away gets a clear error instead of unbounded memory.
 */
import { ClientError } from './errors.ts';

export interface QueuedFrame {
  readonly text: string;
  /** The request this frame carries, so the table can learn which connection it went out on. */
  readonly requestId?: number;
}

export class SendQueue {
  #frames: QueuedFrame[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get length(): number {
    return this.#frames.length;
  }

  push(frame: QueuedFrame): void {
    if (this.#frames.length >= this.#limit) {
      throw new ClientError('queue_full', `send queue full: ${this.#limit} messages are waiting for the connection`);
    }
    this.#frames.push(frame);
  }

  /** Removes one request's frame (it timed out while waiting, so it must not go out late). */
  remove(requestId: number): void {
    this.#frames = this.#frames.filter((frame) => frame.requestId !== requestId);
  }

  drain(): QueuedFrame[] {
    const frames = this.#frames;
    this.#frames = [];
    return frames;
  }
}
