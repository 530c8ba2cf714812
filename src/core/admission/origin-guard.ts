/**
 * One decision shared by the WebSocket upgrade and the auth service's state-changing routes: does
 * the request's Host name this server, and may a page on the request's Origin act here? Sharing
 * it means a page whose origin may not open `/ws` is also refused a ticket, with a reason.
 */
import type { Context } from 'hono';
import { parseOriginPolicy, type OriginPolicy, type OriginVerdict } from './origin-policy.ts';
import { fixedServerNames, literalServerNames, type ServerNames } from './server-names.ts';

export interface OriginGuardOptions {
  /** `--allowed-origins`: comma-separated exact origins, `self`, `*`. */
  readonly allowedOrigins: string;
  /** Whether a request without Origin (a non-browser client) passes. */
  readonly allowMissingOrigin: boolean;
  /**
   * The origins this server is reached at (`--public-origin`), comma-separated: Host must name one
   * of them and `self` means them. Omitted: only IP literals and `localhost` are served, and `self`
   * is the origin such a request addressed (see `literalServerNames`).
   */
  readonly publicOrigins?: string | readonly string[];
  /** Ready-made names; win over `publicOrigins` (the server passes the ones of its listen address). */
  readonly serverNames?: ServerNames;
}

export interface OriginGuard {
  readonly policy: OriginPolicy;
  readonly names: ServerNames;
  readonly allowMissingOrigin: boolean;
  /** False: answer 421, the request was meant for another host (DNS rebinding, a stray proxy rule). */
  hostAllowed(c: Context): boolean;
  /** The Origin verdict, `self` taken from the server's names. */
  checkOrigin(c: Context): OriginVerdict;
}

/** Throws an Error naming the bad entry (`allowed-origins: …` or `public-origin: …`). */
export function createOriginGuard(options: OriginGuardOptions): OriginGuard {
  const policy = parseOriginPolicy(options.allowedOrigins);
  const names =
    options.serverNames ?? (options.publicOrigins !== undefined ? fixedServerNames(options.publicOrigins) : literalServerNames());
  const scheme = (c: Context) => (c.req.url.startsWith('https:') ? 'https:' : 'http:');
  // Without a Host header (HTTP/1.0, HTTP/2's :authority) the runtime built the URL from what it had.
  const authority = (c: Context) => c.req.header('host') ?? new URL(c.req.url).host;
  return {
    policy,
    names,
    allowMissingOrigin: options.allowMissingOrigin,
    hostAllowed: (c) => names.acceptsHost(authority(c), scheme(c)),
    checkOrigin(c) {
      return policy.check({
        origin: c.req.header('origin') ?? null,
        allowMissing: options.allowMissingOrigin,
        isSelf: (origin) => names.isSelf(origin, authority(c), scheme(c)),
      });
    },
  };
}
