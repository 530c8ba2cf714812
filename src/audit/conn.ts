/**
 * A raw client connection: everything received is appended to `buffer` and consumed by the caller
 * (HTTP head reader, frame parser); waits are always bounded. Built on the host's socket port; the
 * adversarial suite's raw client too (test/adversarial/raw-conn.ts).
 */
import { concat } from './bytes.ts';
import type { AuditHost, ConnectOptions, RawSocket } from './host.ts';

/** Called before every write with its size; false refuses the write (the probe's byte budget is spent). */
export type WriteGate = (bytes: number) => boolean;

export class RawConn {
  /** Received and not yet consumed, in arrival order (joined only as far as a reader needs: a 16 MiB reply is not copied per chunk). */
  #chunks: Uint8Array[] = [];
  #available = 0;
  /** performance.now() when the socket went away (EOF + close, reset or destroyed). */
  closedAt: number | undefined;
  /** ECONNRESET, EPIPE, … when the socket failed. */
  errorCode: string | null = null;
  /** The peer sent FIN. */
  sawEof = false;
  /** A write failed (the peer reset the connection): the way to learn it closed while we do not read. */
  writeFailed = false;
  bytesRead = 0;
  readonly #listeners = new Set<() => void>();
  readonly #parsers: (() => void)[] = [];
  #socket: RawSocket | undefined;

  private constructor(private readonly gate: WriteGate) {}

  static async open(host: AuditHost, options: ConnectOptions, gate: WriteGate): Promise<RawConn> {
    const conn = new RawConn(gate);
    conn.#socket = await host.connect(options, {
      data: (chunk) => {
        conn.bytesRead += chunk.length;
        conn.#chunks.push(chunk);
        conn.#available += chunk.length;
        for (const parse of conn.#parsers) parse();
        conn.#notify();
      },
      end: () => {
        conn.sawEof = true;
        conn.#notify();
      },
      close: (errorCode) => {
        conn.errorCode ??= errorCode;
        conn.closedAt ??= performance.now();
        conn.#notify();
      },
    });
    return conn;
  }

  get socket(): RawSocket {
    return this.#socket!;
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** The peer is done with us: FIN, reset or gone. */
  get ended(): boolean {
    return this.closed || this.sawEof || this.writeFailed;
  }

  addParser(parse: () => void): void {
    this.#parsers.push(parse);
  }

  /** True once handed to the kernel; false if the socket failed or the budget refused it. Never rejects. */
  async write(bytes: Uint8Array): Promise<boolean> {
    if (this.closed || !this.gate(bytes.length)) return false;
    const ok = await this.socket.write(bytes);
    if (!ok) {
      this.writeFailed = true;
      this.#notify();
    }
    return ok;
  }

  /** Re-evaluates `check` on every arrival until it returns a value, the connection ends, or time runs out. */
  until<T>(check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const first = check();
      if (first !== undefined || this.closed) return resolve(first);
      const done = (value: T | undefined) => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(value);
      };
      const listener = () => {
        const value = check();
        if (value !== undefined) done(value);
        else if (this.closed) done(undefined);
      };
      const timer = setTimeout(() => done(check()), Math.max(0, timeoutMs));
      this.#listeners.add(listener);
    });
  }

  /** True if the peer ended the connection within `timeoutMs`; keeps reading meanwhile. */
  async waitEnded(timeoutMs: number): Promise<boolean> {
    this.resume();
    await this.until(() => (this.ended ? true : undefined), timeoutMs);
    return this.ended;
  }

  /** Bytes received and not consumed yet. */
  get available(): number {
    return this.#available;
  }

  /** The first `bytes` (or fewer, if not all arrived) unconsumed bytes, contiguous. */
  peek(bytes: number): Uint8Array {
    const want = Math.min(bytes, this.#available);
    if (this.#chunks.length === 0) return new Uint8Array(0);
    if (this.#chunks[0]!.length >= want) return this.#chunks[0]!.subarray(0, want);
    let count = 0;
    let have = 0;
    while (have < want) have += this.#chunks[count++]!.length;
    this.#chunks.splice(0, count, concat(this.#chunks.slice(0, count)));
    return this.#chunks[0]!.subarray(0, want);
  }

  /** Everything received and not consumed yet (for small reads such as an HTTP head). */
  get buffer(): Uint8Array {
    return this.peek(this.#available);
  }

  /** Consumes and returns the first `bytes`. */
  take(bytes: number): Uint8Array {
    const head = this.peek(bytes);
    let left = head.length;
    while (left > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= left) {
        this.#chunks.shift();
        left -= first.length;
      } else {
        this.#chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.#available -= head.length;
    return head;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.#socket?.destroy();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
