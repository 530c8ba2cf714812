/**
 * The client's IP for per-IP limits and ticket binding. Behind a load balancer every request comes
 * from the proxy, so X-Forwarded-For is read — but only when the direct peer is a configured
 * proxy, and only the rightmost hop that is not itself a trusted proxy (the leftmost is whatever
 * the client wrote).
 */
import type { Context } from 'hono';

const IP = /^[0-9A-Fa-f.:]{2,45}$/;

const normalise = (ip: string) => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);

export function clientIpResolver(direct: (c: Context) => string | null, trustedProxies: readonly string[] = []): (c: Context) => string | null {
  if (trustedProxies.length === 0) return direct;
  const trusted = new Set(trustedProxies.map(normalise));
  return (c) => {
    const peer = direct(c);
    if (peer === null || !trusted.has(normalise(peer))) return peer;
    const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map((hop) => hop.trim()).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalise(hops[i]!);
      if (!IP.test(hop)) return peer;
      if (!trusted.has(hop)) return hop;
    }
    return peer;
  };
}
