/**
 * The server's own names: which `Host` values it answers (the defence against DNS rebinding) and
 * which origins `self` stands for. Never derived from a DNS name the request carries: under DNS
 * rebinding a page on `http://evil.example` reaches this server with `Host: evil.example`, so a
 * "self" built from Host would be the attacker's own origin.
 */
import { normaliseOriginEntry } from './origin-policy.ts';
import { normaliseAuthority } from './request-target.ts';

export interface ServerNames {
  /** Whether `authority` (the Host header, or the URL's authority when there is none) names this server. */
  acceptsHost(authority: string, scheme: string): boolean;
  /** Whether the (normalised) Origin is this server's own, for a request to `authority` over `scheme`. */
  isSelf(origin: string, authority: string, scheme: string): boolean;
  /** The configured origins; null in literal mode (IP literals and `localhost`). */
  readonly origins: readonly string[] | null;
}

/** Raw Host values remembered per instance: a scanner sending random Hosts cannot grow memory. */
const CACHE_LIMIT = 256;

/**
 * Exactly these origins (`--public-origin`, or the listen address): Host must name one of them
 * (scheme-default ports may be written or left out) and `self` is any of them. Throws an Error
 * naming the first bad entry.
 */
export function fixedServerNames(spec: string | readonly string[]): ServerNames {
  const entries = typeof spec === 'string' ? spec.split(',').map((entry) => entry.trim()) : spec;
  const origins = entries.map((entry) => normaliseOriginEntry(entry, 'public-origin'));
  const hostsByScheme = new Map<string, Set<string>>();
  for (const origin of origins) {
    const url = new URL(origin);
    let hosts = hostsByScheme.get(url.protocol);
    if (hosts === undefined) hostsByScheme.set(url.protocol, (hosts = new Set()));
    hosts.add(url.host);
  }
  const self = new Set(origins);
  const acceptsHost = remembered((authority) => {
    for (const [scheme, hosts] of hostsByScheme) {
      const normalised = normaliseAuthority(scheme, authority);
      if (normalised !== null && hosts.has(normalised)) return true;
    }
    return false;
  });
  return { origins, acceptsHost, isSelf: (origin) => self.has(origin) };
}

/** A Host decision per raw value and scheme, remembered: URL parsing per request is avoidable work. */
function remembered(decide: (authority: string, scheme: string) => boolean): (authority: string, scheme: string) => boolean {
  const cache = new Map<string, boolean>();
  return (authority, scheme) => {
    const key = `${scheme}${authority}`;
    let known = cache.get(key);
    if (known === undefined) {
      known = decide(authority, scheme);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, known);
    }
    return known;
  };
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Nothing configured (the library without `publicOrigins`, or a server listening on every
 * interface): only names that no DNS answer can rebind are served, IP literals and `localhost`,
 * and `self` is the origin the request addressed. A page can only send `Host: 10.0.0.5:8080` if it
 * was itself loaded from http://10.0.0.5:8080, i.e. from this server. A DNS name gets 421 until
 * it is configured.
 */
export function literalServerNames(): ServerNames {
  return {
    origins: null,
    acceptsHost: remembered((authority, scheme) => {
      const normalised = normaliseAuthority(scheme, authority);
      if (normalised === null) return false;
      const hostname = new URL(`${scheme}//${normalised}`).hostname;
      return hostname === 'localhost' || hostname.startsWith('[') || IPV4.test(hostname);
    }),
    isSelf(origin, authority, scheme) {
      const normalised = normaliseAuthority(scheme, authority);
      return normalised !== null && origin === `${scheme}//${normalised}`;
    },
  };
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '']);
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;

/**
 * The origins a listener answers by default: its address and port, plus `localhost` (and the
 * loopback literals) for a loopback listener. null for a wildcard address (0.0.0.0, ::), which
 * names no host: then literal mode applies.
 */
export function listenOrigins(host: string, port: number, tls: boolean): string[] | null {
  if (WILDCARD.has(host)) return null;
  const scheme = tls ? 'https' : 'http';
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const authority = bare.includes(':') ? `[${bare}]` : bare;
  const names = new Set([`${scheme}://${authority}:${port}`]);
  if (LOOPBACK.test(host)) {
    names.add(`${scheme}://localhost:${port}`);
    if (bare === 'localhost') {
      names.add(`${scheme}://127.0.0.1:${port}`);
      names.add(`${scheme}://[::1]:${port}`);
    }
  }
  return [...names];
}
