/** A test WebSocket client (the `ws` package) that records every message and the close. */
import WebSocket from 'ws';

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export class TestSocket {
  readonly messages: Record<string, unknown>[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<Closed>;
  readonly raw: WebSocket;
  /** When the close event fired (Date.now()), unaffected by how late a test awaits `closed`. */
  closedAt: number | undefined;
  #waiters: (() => void)[] = [];

  constructor(
    url: string,
    options: { origin?: string; ca?: string; headers?: Record<string, string>; localAddress?: string; handshakeTimeoutMs?: number } = {},
  ) {
    this.raw = new WebSocket(url, {
      origin: options.origin,
      ca: options.ca,
      headers: options.headers,
      localAddress: options.localAddress,
      handshakeTimeout: options.handshakeTimeoutMs,
    });
    this.opened = new Promise((resolve, reject) => {
      this.raw.once('open', () => resolve());
      this.raw.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.raw.once('error', reject);
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.raw.on('close', (code, reason) => {
        this.closedAt = Date.now();
        resolve({ code, reason: reason.toString() });
        this.#wake();
      });
    });
    this.raw.on('error', () => {});
    this.raw.on('message', (data, isBinary) => {
      this.messages.push(isBinary ? { binary: true } : JSON.parse(data.toString()));
      this.#wake();
    });
  }

  send(message: unknown): void {
    this.raw.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves with the n-th message (0-based) once it has arrived; rejects if the socket closes first or on timeout. */
  async message(index: number, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length <= index) {
      if (this.raw.readyState === WebSocket.CLOSED) throw new Error(`socket closed after ${this.messages.length} messages`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for message ${index}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.messages[index]!;
  }

  async closeCode(timeoutMs = 8_000): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(code = 1000): void {
    this.raw.close(code);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
