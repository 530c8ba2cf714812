/**
 * The two forms `--redis-url` takes: one Redis (`redis://`, `rediss://`) or a Redis Cluster named by
 * some of its nodes (`redis+cluster://[user[:password]@]host:port[,host:port…]`, `rediss+cluster://`
 * for TLS). Checked at startup and parsed again where the client is made, from the same text.
 * Problems are described without the URL: it may carry a password.
 */

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'cluster';
      /** Seed nodes: any few masters or replicas; the client learns the rest from them. */
      readonly nodes: readonly ClusterNode[];
      readonly username?: string;
      readonly password?: string;
      readonly tls: boolean;
    };

const CLUSTER = /^(rediss?)\+cluster:\/\/(.*)$/i;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/;
const MAX_NODES = 64;
const DEFAULT_PORT = 6379;

/** Parses the option's text; throws a RangeError (no URL in its message) when it is neither form. */
export function parseRedisUrl(text: string): RedisTarget {
  const cluster = CLUSTER.exec(text);
  if (cluster === null) return { kind: 'single', url: checkedSingle(text) };
  const scheme = cluster[1]!.toLowerCase();
  let rest = cluster[2]!;
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (/[/?#]/.test(rest)) throw new RangeError('a redis+cluster:// URL has no path, database or query: a cluster has database 0 only');
  const at = rest.lastIndexOf('@');
  const userinfo = at === -1 ? null : rest.slice(0, at);
  const hosts = at === -1 ? rest : rest.slice(at + 1);
  const nodes = hosts.split(',').map(parseNode);
  if (nodes.length > MAX_NODES) throw new RangeError(`at most ${MAX_NODES} seed nodes`);
  return { kind: 'cluster', nodes, tls: scheme === 'rediss', ...credentials(userinfo) };
}

/** The same check as a message, or null when the text is a valid form. */
export function redisUrlProblem(text: string): string | null {
  try {
    parseRedisUrl(text);
    return null;
  } catch (error) {
    return error instanceof RangeError ? error.message : 'not a Redis URL';
  }
}

function checkedSingle(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError('expected redis://, rediss://, redis+cluster:// or rediss+cluster:// URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new RangeError('expected redis://, rediss://, redis+cluster:// or rediss+cluster:// URL');
  if (url.hostname === '') throw new RangeError('the Redis URL names no host');
  return text;
}

function parseNode(text: string): ClusterNode {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(text);
  const host = match?.[1] ?? '';
  if (match === null || !HOST.test(host)) throw new RangeError('each cluster node must be host:port (a host name, IPv4 or [IPv6] address)');
  const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (port < 1 || port > 65535) throw new RangeError('a cluster node port must be 1–65535');
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

function credentials(userinfo: string | null): { username?: string; password?: string } {
  if (userinfo === null) return {};
  const colon = userinfo.indexOf(':');
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new RangeError('the user or password of the Redis URL is not valid percent-encoding');
    }
  };
  const username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon));
  const password = colon === -1 ? undefined : decode(userinfo.slice(colon + 1));
  return { ...(username === '' ? {} : { username }), ...(password === undefined || password === '' ? {} : { password }) };
}
