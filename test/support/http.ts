/** Minimal HTTP(S) client for tests: node:http so a test CA can be passed per request. */
import http from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly ca?: string;
  /** Source address on loopback (e.g. 127.0.0.2, to be told apart from a proxy on 127.0.0.1). */
  readonly localAddress?: string;
  /** Fail the request after this long without activity; default none. */
  readonly timeoutMs?: number;
  /** TLS name to verify (Node takes it from a Host header otherwise, e.g. one a test forges). */
  readonly servername?: string;
}

export function request(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: options.ca,
        agent: false,
        localAddress: options.localAddress,
        timeout: options.timeoutMs,
        ...(options.servername ? { servername: options.servername } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
