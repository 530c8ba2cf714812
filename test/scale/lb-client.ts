/**
 * A client that talks to the load balancer from its own loopback address (127.0.0.2), so the
 * instances behind the proxy (127.0.0.1, trusted) can tell the client from the proxy: per-IP
 * limits and ticket binding must see 127.0.0.2, taken from X-Forwarded-For.
 */
import http from 'node:http';
import WebSocket from 'ws';
import type { HttpResponse } from '../support/http.ts';

export const CLIENT_ADDRESS = '127.0.0.2';

export function lbRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(url), { method: options.method ?? 'GET', headers: options.headers, agent: false, localAddress: CLIENT_ADDRESS, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Same surface as test/support/ws-client.ts TestSocket, from CLIENT_ADDRESS. */
export class LbSocket {
  readonly messages: Record<string, unknown>[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly raw: WebSocket;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.raw = new WebSocket(url, { localAddress: CLIENT_ADDRESS, headers, handshakeTimeout: 10_000 });
    this.opened = new Promise((resolve, reject) => {
      this.raw.once('open', () => resolve());
      this.raw.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.raw.once('error', reject);
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.raw.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.raw.on('error', () => {});
    this.raw.on('message', (data) => this.messages.push(JSON.parse(data.toString())));
  }

  send(message: unknown): void {
    this.raw.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  async message(index: number, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length <= index) {
      if (this.raw.readyState === WebSocket.CLOSED) throw new Error(`socket closed after ${this.messages.length} messages`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for message ${index}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.messages[index]!;
  }

  async closeCode(timeoutMs = 8_000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs)));
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(code = 1000): void {
    this.raw.close(code);
  }
}
