/**
 * A client that talks to the load balancer from its own loopback address (127.0.0.2), so the
 * instances behind the proxy (127.0.0.1, trusted) can tell the client from the proxy: per-IP
 * limits and ticket binding must see 127.0.0.2, taken from X-Forwarded-For.
 */
import { request, type HttpRequestOptions, type HttpResponse } from '../support/http.ts';
import { TestSocket } from '../support/ws-client.ts';

export const CLIENT_ADDRESS = '127.0.0.2';

export function lbRequest(url: string, options: Omit<HttpRequestOptions, 'localAddress'> = {}): Promise<HttpResponse> {
  return request(url, { timeoutMs: 10_000, ...options, localAddress: CLIENT_ADDRESS });
}

/** A TestSocket opened from CLIENT_ADDRESS. */
export class LbSocket extends TestSocket {
  constructor(url: string, headers: Record<string, string> = {}) {
    super(url, { headers, localAddress: CLIENT_ADDRESS, handshakeTimeoutMs: 10_000 });
  }
}
