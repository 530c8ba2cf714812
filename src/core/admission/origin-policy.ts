/**
 * Origin allowlist for WebSocket upgrades: the defence against cross-site WebSocket hijacking.
 * Browsers always send `Origin` on a WebSocket handshake and a page cannot forge it, so an exact
 * match of scheme, host and port (RFC 6454) decides whether a page may open a socket here.
 * Non-browser clients can send anything: for them the ticket, not the Origin, is the defence.
 */

export type OriginVerdict = 'ok' | 'missing' | 'forbidden';

export interface OriginCheckInput {
  /** The `Origin` header as received; null when absent. */
  readonly origin: string | null;
  /** Whether a request without Origin (a non-browser client) is admitted. */
  readonly allowMissing: boolean;
  /**
   * Whether a normalised origin is the server's own (see `ServerNames.isSelf`); consulted only when
   * `self` is listed. Omitted: `self` matches nothing.
   */
  readonly isSelf?: (origin: string) => boolean;
}

export interface OriginPolicy {
  /** `*` was listed: every Origin passes. The caller logs a startup warning. */
  readonly allowsAny: boolean;
  /** `self` was listed: the server's own origins (its configured names, see server-names.ts). */
  readonly allowsSelf: boolean;
  /** The exact origins listed, normalised (`new URL(entry).origin`). */
  readonly origins: ReadonlySet<string>;
  /** 'missing' only when the Origin is absent and that is not allowed. */
  check(input: OriginCheckInput): OriginVerdict;
}

/**
 * What a browser puts in `Origin`: `scheme://host[:port]` in ASCII (punycode for IDN), where the
 * host is a DNS name, IPv4 or bracketed IPv6. Only those characters are accepted, before any
 * parsing: a path (even a trailing `/`), userinfo, query, fragment, backslash, percent-escape,
 * comma (two values joined), whitespace or non-ASCII byte never reaches the lenient URL parser,
 * which would otherwise map some of them onto an allowed origin (`%61pp` → `app`, `ü` → `xn--…`).
 */
const ORIGIN_SYNTAX = /^https?:\/\/[a-z0-9._:[\]-]+$/i;

/** Parses `--allowed-origins`; throws an Error naming the first bad entry. */
export function parseOriginPolicy(spec: string): OriginPolicy {
  const entries = spec.split(',').map((entry) => entry.trim());
  let allowsAny = false;
  let allowsSelf = false;
  const origins = new Set<string>();
  for (const entry of entries) {
    if (entry === '*') allowsAny = true;
    else if (entry.toLowerCase() === 'self') allowsSelf = true;
    else origins.add(normaliseOriginEntry(entry, 'allowed-origins'));
  }
  return {
    allowsAny,
    allowsSelf,
    origins,
    check({ origin, allowMissing, isSelf }) {
      if (origin === null) return allowMissing ? 'ok' : 'missing';
      if (allowsAny) return 'ok';
      const normalised = normaliseOrigin(origin);
      if (normalised === null) return 'forbidden';
      if (origins.has(normalised)) return 'ok';
      if (allowsSelf && isSelf?.(normalised) === true) return 'ok';
      return 'forbidden';
    },
  };
}

/** An origin as configured (`scheme://host[:port]`), normalised; throws an Error naming `option` and the entry. */
export function normaliseOriginEntry(entry: string, option: string): string {
  const bad = (why: string) => new Error(`${option}: invalid entry "${entry}": ${why}`);
  if (entry === '') throw bad('empty entry (stray comma?)');
  // `new URL('http://*.example.com')` parses, so wildcards must be refused by hand.
  if (entry.includes('*'))
    throw bad(
      option === 'allowed-origins'
        ? 'wildcards are not supported; list each origin, or use "*" alone'
        : 'wildcards are not supported; list each origin',
    );
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw bad(option === 'allowed-origins' ? 'expected scheme://host[:port], "self" or "*"' : 'expected scheme://host[:port]');
  }
  // Other schemes have opaque origins: new URL('chrome-extension://x').origin is the string "null".
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('only http:// and https:// origins exist for browsers');
  if (url.username !== '' || url.password !== '') throw bad('credentials are not part of an origin');
  // A lone trailing slash is the root path and is forgiven; any other path, query or fragment is not.
  if (url.pathname !== '/' || entry.includes('?') || entry.includes('#')) throw bad('an origin has no path, query or fragment');
  return url.origin;
}

/**
 * The canonical origin of a received header, or null when it is not an http(s) origin.
 * Equivalences per RFC 6454: scheme and host compare case-insensitively (URL lowercases them),
 * a default port equals no port (`http://x:80` is `http://x`). A Unicode host is refused by the
 * ASCII-only syntax: browsers send punycode, which is what the allowlist normalises to.
 */
function normaliseOrigin(origin: string): string | null {
  if (!ORIGIN_SYNTAX.test(origin)) return null;
  try {
    return new URL(origin).origin;
  } catch {
    return null;
  }
}
