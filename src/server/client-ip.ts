/**
 * The client's IP for per-IP limits, ticket binding and logs, resolved once per request by a
 * middleware mounted before every other one. Behind a load balancer every request comes from the
 * proxy, so X-Forwarded-For is read — but only when the direct peer is a configured proxy, and
 * only the rightmost hop that is not itself a trusted proxy (the leftmost is whatever the client
 * wrote).
 */
import type { Context, MiddlewareHandler } from 'hono';

const IP = /^[0-9A-Fa-f.:]{2,45}$/;

const normalise = (ip: string) => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);

export function clientIpResolver(
  direct: (c: Context) => string | null,
  trustedProxies: readonly string[] = [],
): (c: Context) => string | null {
  if (trustedProxies.length === 0) return direct;
  const trusted = new Set(trustedProxies.map(normalise));
  return (c) => {
    const peer = direct(c);
    if (peer === null || !trusted.has(normalise(peer))) return peer;
    const hops = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((hop) => hop.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalise(hops[i]!);
      if (!IP.test(hop)) return peer;
      if (!trusted.has(hop)) return hop;
    }
    return peer;
  };
}

export interface ClientIp {
  /** Mount before any other middleware: it resolves the IP while the request is still the runtime's own. */
  readonly middleware: MiddlewareHandler;
  /** The IP the middleware resolved for this request; null when the runtime could not tell. */
  of(c: Context): string | null;
}

/**
 * One resolution per request, read by every consumer (admission, auth service, gateway, request
 * log). Resolved lazily, a consumer running after a middleware that replaced `c.req.raw` (Hono's
 * bodyLimit does, for chunked bodies) got null on Bun — which silently turned per-IP limits and
 * ticket IP binding off. Keyed by the request's Context, as admission keys its grants.
 */
export function createClientIp(direct: (c: Context) => string | null, trustedProxies: readonly string[] = []): ClientIp {
  const resolve = clientIpResolver(direct, trustedProxies);
  const resolved = new WeakMap<Context, string | null>();
  return {
    middleware: async (c, next) => {
      resolved.set(c, resolve(c));
      await next();
    },
    of(c) {
      const ip = resolved.get(c);
      // A consumer mounted ahead of the middleware is a wiring bug: fail the request loudly rather
      // than run it with the per-IP defences off.
      if (ip === undefined) throw new Error('client IP read before the client-IP middleware ran');
      return ip;
    },
  };
}
