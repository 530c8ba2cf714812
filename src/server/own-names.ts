/**
 * The names this server answers to, and the Host check every route gets (421 otherwise): the
 * defence against DNS rebinding. From --public-origin; else the listen address and port, which is
 * only known once listening (--port 0 picks one); else, on 0.0.0.0 or ::, IP literals and localhost.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ConfigError, type Config } from '../config/index.ts';
import { fixedServerNames, listenOrigins, literalServerNames, type OriginGuard, type ServerNames } from '../core/admission/index.ts';
import type { Logger } from '../logging/logger.ts';

export interface OwnNames {
  /** Stable object: it follows the listen port once `listeningOn` was called. */
  readonly names: ServerNames;
  /** Call with the bound port; logs the names in force (`host.names`). */
  listeningOn(port: number): void;
}

export function ownNames(config: Config, logger: Logger): OwnNames {
  let current: ServerNames;
  if (config.publicOrigin !== undefined) {
    try {
      current = fixedServerNames(config.publicOrigin);
    } catch (error) {
      throw new ConfigError('public-origin', error instanceof Error ? error.message : 'invalid');
    }
  } else {
    // Until the port is known nothing matches; no request arrives before the listener is bound.
    current = listenOrigins(config.host, config.port, config.tls) === null ? literalServerNames() : fixedServerNames([]);
  }
  const fixed = config.publicOrigin !== undefined;
  return {
    names: {
      acceptsHost: (authority, scheme) => current.acceptsHost(authority, scheme),
      isSelf: (origin, authority, scheme) => current.isSelf(origin, authority, scheme),
      get origins() {
        return current.origins;
      },
    },
    listeningOn(port) {
      if (!fixed) {
        const origins = listenOrigins(config.host, port, config.tls);
        if (origins !== null) current = fixedServerNames(origins);
      }
      const origins = current.origins;
      // On every interface without --public-origin, a DNS name gets 421: say how to serve one.
      if (origins === null)
        logger.info({ hosts: 'ip-literals-and-localhost', hint: 'set --public-origin to serve a DNS name' }, 'host.names');
      else logger.info({ origins }, 'host.names');
    },
  };
}

/**
 * Not checked: the probes (an orchestrator addresses an instance by pod IP or container name; they
 * reveal and change nothing) and the bearer-token APIs, called server-to-server under internal
 * names (/auth/verify, /metrics, /admin/*, /api/*). Rebinding lends a page the browser's cookies, never
 * a bearer token, so those routes gain nothing from it.
 */
const UNCHECKED = new Set(['/healthz', '/readyz', '/auth/verify', '/metrics']);
const isUnchecked = (path: string) => UNCHECKED.has(path) || path.startsWith('/admin/') || path.startsWith('/api/');

/** The Host is the client's: logged, but not a megabyte of it. */
const MAX_LOGGED_HOST = 256;

/** 421 Misdirected Request for a Host that is not one of the server's names (RFC 9110 §15.5.20). */
export function hostCheck(
  guard: Pick<OriginGuard, 'hostAllowed'>,
  clientIp: (c: Context) => string | null,
  logger: Logger,
): MiddlewareHandler {
  return async (c, next) => {
    if (isUnchecked(c.req.path)) return next();
    if (!guard.hostAllowed(c)) {
      const host = c.req.header('host')?.slice(0, MAX_LOGGED_HOST) ?? null;
      logger.warn({ reason: 'unknown_host', host, ip: clientIp(c) }, 'request.refused');
      return c.json({ error: 'unknown_host' }, 421);
    }
    await next();
  };
}
