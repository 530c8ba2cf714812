/** The byte pipe and HTTP handshakes: a raw TCP/TLS client that sends arbitrary bytes and reads raw answers. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls?: boolean;
  readonly ca?: string;
}

export function endpointOf(origin: string, ca?: string): Endpoint {
  const url = new URL(origin);
  return { host: url.hostname, port: Number(url.port), tls: url.protocol === 'https:', ca };
}

function assertLoopback(host: string): void {
  assert.ok(/^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '[::1]', `refusing non-loopback target ${host}`);
}

// ---------------------------------------------------------------------------------------------
// The byte pipe
// ---------------------------------------------------------------------------------------------

/** A raw client socket: everything received is appended to `buffer`; the caller consumes it. */
export class RawConn {
  buffer: Buffer = Buffer.alloc(0);
  /** Set once the socket is gone (EOF, reset or destroyed). */
  closedAt: number | undefined;
  /** `ECONNRESET`, `EPIPE`, … when the socket errored. */
  errorCode: string | undefined;
  /** Set when the peer sent FIN (we saw end-of-stream while reading). */
  sawEof = false;
  readonly socket: net.Socket;
  readonly #listeners = new Set<() => void>();
  /** Run on every arrival before waiters are woken (the frame parser). */
  readonly #parsers: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      for (const parse of this.#parsers) parse();
      this.#notify();
    });
    socket.on('end', () => {
      this.sawEof = true;
      this.#notify();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errorCode ??= error.code ?? error.message;
    });
    socket.on('close', () => {
      this.closedAt ??= Date.now();
      this.#notify();
    });
  }

  static open(endpoint: Endpoint, timeoutMs = 5_000): Promise<RawConn> {
    assertLoopback(endpoint.host);
    return new Promise((resolve, reject) => {
      const socket = endpoint.tls
        ? tls.connect({ host: endpoint.host, port: endpoint.port, ca: endpoint.ca, servername: 'localhost' })
        : net.connect({ host: endpoint.host, port: endpoint.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`raw connect to ${endpoint.host}:${endpoint.port} timed out`));
      }, timeoutMs);
      socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(new RawConn(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  addParser(parse: () => void): void {
    this.#parsers.push(parse);
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Resolves true once written to the kernel, false if the socket failed first. Never rejects. */
  write(data: Buffer | string): Promise<boolean> {
    if (this.socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      try {
        this.socket.write(data, (error) => resolve(!error));
      } catch {
        resolve(false);
      }
    });
  }

  /** Re-evaluates `check` on every arrival until it returns a value, the socket closes, or time runs out. */
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
      const timer = setTimeout(() => done(check()), timeoutMs);
      this.#listeners.add(listener);
    });
  }

  /** True if the socket is closed (by the peer or an error) within `timeoutMs`. Keeps reading meanwhile. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    this.socket.resume();
    await this.until(() => (this.closed ? true : undefined), timeoutMs);
    return this.closed;
  }

  take(bytes: number): Buffer {
    const head = this.buffer.subarray(0, bytes);
    this.buffer = this.buffer.subarray(bytes);
    return head;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * The kernel's view of this connection, from our side: 'ESTABLISHED', 'CLOSE_WAIT' (the server
   * sent FIN, we have not read it yet), … or null when the socket is gone (reset). Linux only.
   * Works while the socket is paused, which is the point: "did the server drop a client that
   * never reads?" cannot be answered by reading.
   */
  kernelState(): string | null {
    return tcpState(this.socket.localPort, this.socket.remotePort);
  }

  /**
   * The server's end of this connection as the kernel sees it (loopback: both ends are local).
   * When the client never reads, a server that closes has its FIN stuck behind unsent data: its
   * end goes FIN_WAIT1 while ours still says ESTABLISHED — so both ends are checked.
   */
  serverKernelState(): string | null {
    return tcpState(this.socket.remotePort, this.socket.localPort);
  }

  /**
   * The server's end of this connection in the kernel: state, bytes still queued to send to us,
   * and whether a process still holds it (an orphan — closed by the server process, but kept by
   * the kernel to deliver what is queued — has inode 0). null once the kernel has forgotten it.
   */
  serverEnd(): TcpEnd | null {
    return tcpEnd(this.socket.remotePort, this.socket.localPort);
  }

  /** The server process has let go of this connection: closed, orphaned in the kernel, or reset. */
  serverReleased(): boolean {
    const end = this.serverEnd();
    return end === null || !end.owned;
  }

  /** The server has ended this connection (FIN queued or sent, or RST), whether or not we read it. */
  serverHasClosed(): boolean {
    if (this.closed || this.sawEof) return true;
    const ours = this.kernelState();
    if (ours === null || ours === 'CLOSE_WAIT' || ours === 'CLOSE' || ours === 'LAST_ACK') return true;
    const theirs = this.serverKernelState();
    return theirs === null || theirs !== 'ESTABLISHED';
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

export interface TcpEnd {
  readonly state: string;
  /** Bytes in the kernel's send queue (tx_queue). */
  readonly sendQueue: number;
  /** A process holds the socket (inode ≠ 0); false for an orphan or TIME_WAIT. */
  readonly owned: boolean;
}

/** State of the TCP connection localPort → remotePort from /proc/net/tcp{,6}, or null if absent. */
export function tcpState(localPort: number | undefined, remotePort: number | undefined): string | null {
  return tcpEnd(localPort, remotePort)?.state ?? null;
}

/** The kernel's entry for the TCP connection localPort → remotePort (/proc/net/tcp{,6}), or null if absent. */
export function tcpEnd(localPort: number | undefined, remotePort: number | undefined): TcpEnd | null {
  if (localPort === undefined || remotePort === undefined) return null;
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const local = `:${hex(localPort)}`;
  const remote = `:${hex(remotePort)}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      if (!cols[1]!.endsWith(local) || !cols[2]!.endsWith(remote)) continue;
      // sl local remote st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
      return { state: TCP_STATES[cols[3]!] ?? cols[3]!, sendQueue: parseInt(cols[4]!.split(':')[0]!, 16), owned: cols[9] !== '0' };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// HTTP handshakes
// ---------------------------------------------------------------------------------------------

export interface UpgradeRequestOptions {
  readonly host: string;
  readonly path?: string;
  readonly method?: string;
  readonly httpVersion?: string;
  /** null = leave the header out. */
  readonly origin?: string | null;
  readonly key?: string | null;
  readonly version?: string | null;
  readonly upgrade?: string | null;
  readonly connection?: string | null;
  readonly extraHeaders?: readonly (readonly [string, string])[];
}

export const randomKey = () => randomBytes(16).toString('base64');
export const acceptFor = (key: string) => createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** The bytes of an upgrade request: every header can be dropped or replaced. */
export function upgradeRequest(o: UpgradeRequestOptions): string {
  const lines = [`${o.method ?? 'GET'} ${o.path ?? '/ws'} HTTP/${o.httpVersion ?? '1.1'}`, `Host: ${o.host}`];
  const optional: [string, string | null | undefined][] = [
    ['Upgrade', o.upgrade === undefined ? 'websocket' : o.upgrade],
    ['Connection', o.connection === undefined ? 'Upgrade' : o.connection],
    ['Sec-WebSocket-Key', o.key === undefined ? randomKey() : o.key],
    ['Sec-WebSocket-Version', o.version === undefined ? '13' : o.version],
    ['Origin', o.origin],
  ];
  for (const [name, value] of optional) if (value !== null && value !== undefined) lines.push(`${name}: ${value}`);
  for (const [name, value] of o.extraHeaders ?? []) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface HttpHead {
  readonly status: number;
  readonly statusLine: string;
  readonly headers: Record<string, string>;
}

/** What came back for a request: a status line, or the socket closed / reset / stayed silent. */
export type HeadOutcome =
  | ({ readonly kind: 'response' } & HttpHead)
  | { readonly kind: 'closed'; readonly error?: string; readonly partial: string }
  | { readonly kind: 'timeout'; readonly partial: string };

/** Reads one HTTP response head from `conn` (consuming it) within `timeoutMs`. */
export async function readHead(conn: RawConn, timeoutMs: number): Promise<HeadOutcome> {
  const end = await conn.until(() => {
    const at = conn.buffer.indexOf('\r\n\r\n');
    return at >= 0 ? at : undefined;
  }, timeoutMs);
  if (end === undefined) {
    const partial = conn.buffer.subarray(0, 200).toString('latin1');
    return conn.closed ? { kind: 'closed', error: conn.errorCode, partial } : { kind: 'timeout', partial };
  }
  const text = conn.take(end + 4).toString('latin1');
  const [statusLine = '', ...rest] = text.slice(0, -4).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { kind: 'response', status, statusLine, headers };
}

/** A one-line description of a handshake outcome, for diagnostics and reports. */
export function describeOutcome(outcome: HeadOutcome, closedAfterMs?: number | null): string {
  if (outcome.kind === 'response') {
    const extra = outcome.headers['sec-websocket-version'] ? ` (Sec-WebSocket-Version: ${outcome.headers['sec-websocket-version']})` : '';
    const closed = closedAfterMs === undefined ? '' : closedAfterMs === null ? ', socket left open' : `, closed after ${closedAfterMs} ms`;
    return `${outcome.status}${extra}${closed}`;
  }
  if (outcome.kind === 'closed') return `closed without a response${outcome.error ? ` (${outcome.error})` : ''}`;
  return 'no response (timeout)';
}

/**
 * Opens a raw connection, writes `request` (string or bytes; written in pieces so that a server
 * closing early is observed rather than crashing the test) and reads the response head.
 */
export async function sendRequest(
  endpoint: Endpoint,
  request: string | Buffer,
  timeoutMs = 3_000,
): Promise<{ conn: RawConn; outcome: HeadOutcome }> {
  const conn = await RawConn.open(endpoint);
  const bytes = typeof request === 'string' ? Buffer.from(request, 'latin1') : request;
  void conn.write(bytes);
  const outcome = await readHead(conn, timeoutMs);
  return { conn, outcome };
}
