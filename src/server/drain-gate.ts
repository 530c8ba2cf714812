/**
 * The drain gate: from the first moment of a drain (SIGTERM), nothing new starts here. WebSocket
 * upgrades, logins and ticket requests get 503 with `Retry-After`, so a client, or a load balancer
 * that retries on 503 (deploy/haproxy.cfg), goes to another instance instead of landing on this
 * one and being cut when it exits. Everything else (health, logout, static pages) still answers.
 */
import type { MiddlewareHandler } from 'hono';

/** Retry-After is whole seconds: each refusal gets its own 1–5 s, so refused clients do not return together. */
const RETRY_AFTER_S = { min: 1, max: 5 };

export function drainGate(isDraining: () => boolean, paths: readonly string[]): MiddlewareHandler {
  const gated = new Set(paths);
  return async (c, next) => {
    if (!isDraining() || !gated.has(c.req.path)) return next();
    const retryAfter = RETRY_AFTER_S.min + Math.floor(Math.random() * (RETRY_AFTER_S.max - RETRY_AFTER_S.min + 1));
    // `Connection: close`: a keep-alive client should take its next request elsewhere too.
    return c.json({ error: 'draining' }, 503, { 'Retry-After': String(retryAfter), Connection: 'close', 'Cache-Control': 'no-store' });
  };
}
