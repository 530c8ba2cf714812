/**
 * Request-target sanity for upgrades. Hono on Node, Bun and Deno keeps `GET //evil.com/ws` as the
 * path `//evil.com/ws` (it then matches no route), but a proxy or a URL resolver in front of or
 * behind us may read `//evil.com/…` as a protocol-relative URL to another host. Node and Deno
 * build the request URL from an absolute-form target (`GET http://evil.com/ws`) and ignore Host;
 * Bun discards that authority. Either way, a target naming a host other than Host is refused.
 */

/** A Host header: a DNS name or IPv4 (ASCII, punycode for IDN) or a bracketed IPv6, optional port. */
const HOST_SYNTAX = /^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i;

/** `//`, `/\` and their percent-encoded forms: each reads as "another host" to some parser. */
const HOSTLIKE_PATH = /^\/(?:\/|\\|%2f|%5c)/i;

/**
 * The authority `host` as URL would write it under `protocol` (lowercase, default port dropped),
 * or null when it is not a plain host[:port] (userinfo, path, spaces, bad port).
 */
export function normaliseAuthority(protocol: string, host: string): string | null {
  if (!HOST_SYNTAX.test(host)) return null;
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return null;
  }
}

/** True when the target is a plain origin-form path on the host the client named in Host. */
export function isSafeRequestTarget(url: URL, host: string | undefined): boolean {
  if (HOSTLIKE_PATH.test(url.pathname)) return false;
  // No Host (HTTP/1.0, HTTP/2 :authority): the runtime already built the URL from what it had.
  if (host === undefined) return true;
  return normaliseAuthority(url.protocol, host) === url.host;
}
