/** The endpoint under audit, from its ws:// or wss:// URL: where to connect, what Host and Origin to send. */
import type { AuditOptions } from './options.ts';

export interface Target {
  readonly url: string;
  readonly secure: boolean;
  /** Connect address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** The Host header, e.g. example.com or [::1]:8080. */
  readonly hostHeader: string;
  /** Request target for upgrades: path and query (with a query credential added where the probe asks). */
  readonly path: string;
  /** The Origin presented as the endpoint's own. */
  readonly ownOrigin: string;
  /** scheme://host[:port] of the HTTP side (login, HSTS). */
  readonly httpBase: string;
  /** The host is loopback (127.0.0.0/8, ::1, localhost). */
  readonly loopback: boolean;
}

/** A URL or option the audit cannot work with: a usage error (exit 2). */
export class UsageError extends Error {}

export function resolveTarget(options: Pick<AuditOptions, 'url' | 'origin'>): Target {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new UsageError('the target must be a ws:// or wss:// URL');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError('the target must be a ws:// or wss:// URL');
  if (url.username || url.password) throw new UsageError('the target URL must not carry credentials (use --login or --header)');
  const secure = url.protocol === 'wss:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const httpBase = `${secure ? 'https' : 'http'}://${url.host}`;
  let ownOrigin = httpBase;
  if (options.origin !== undefined) {
    try {
      const parsed = new URL(options.origin);
      if (parsed.origin === 'null') throw new Error();
      ownOrigin = parsed.origin;
    } catch {
      throw new UsageError('--origin must be an origin such as https://app.example.com');
    }
  }
  return {
    url: url.href,
    secure,
    host: hostname,
    port,
    hostHeader: url.host,
    path: `${url.pathname}${url.search}`,
    ownOrigin,
    httpBase,
    loopback: /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '::1' || hostname === 'localhost',
  };
}
