/** HTTP/1.1 over a raw connection: upgrade requests with any header dropped or replaced, response heads, and small requests. */
import { base64, concat, fromLatin1, indexOf, latin1, randomBytes, text, utf8 } from './bytes.ts';
import type { RawConn } from './conn.ts';

export interface UpgradeRequestOptions {
  /** The Host header. */
  readonly host: string;
  /** The request target; default the target's path. */
  readonly path: string;
  readonly method?: string;
  readonly httpVersion?: string;
  /** null or undefined = no Origin header. */
  readonly origin?: string | null;
  /** null = leave the header out; undefined = a fresh random key. */
  readonly key?: string | null;
  readonly version?: string | null;
  readonly upgrade?: string | null;
  readonly connection?: string | null;
  readonly extraHeaders?: readonly (readonly [string, string])[];
}

export const randomKey = (): string => base64(randomBytes(16));

/** Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2). */
export async function acceptFor(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', utf8(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`));
  return base64(new Uint8Array(digest));
}

export function upgradeRequest(o: UpgradeRequestOptions): string {
  const lines = [`${o.method ?? 'GET'} ${o.path} HTTP/${o.httpVersion ?? '1.1'}`, `Host: ${o.host}`];
  const optional: [string, string | null | undefined][] = [
    ['Upgrade', o.upgrade === undefined ? 'websocket' : o.upgrade],
    ['Connection', o.connection === undefined ? 'Upgrade' : o.connection],
    ['Sec-WebSocket-Key', o.key === undefined ? randomKey() : o.key],
    ['Sec-WebSocket-Version', o.version === undefined ? '13' : o.version],
    ['Origin', o.origin],
  ];
  for (const [name, value] of optional) if (value !== null && value !== undefined) lines.push(`${name}: ${value}`);
  for (const [name, value] of o.extraHeaders ?? []) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface HttpHead {
  readonly status: number;
  readonly statusLine: string;
  /** Lower-case names; repeated headers joined with ", " (set-cookie with "\n"). */
  readonly headers: Readonly<Record<string, string>>;
}

/** What came back: a response head, or the connection closed / stayed silent first. */
export type HeadOutcome =
  ({ readonly kind: 'response' } & HttpHead) | { readonly kind: 'closed'; readonly error: string | null } | { readonly kind: 'timeout' };

const CRLFCRLF = utf8('\r\n\r\n');

/** Reads (and consumes) one response head within `timeoutMs`. */
export async function readHead(conn: RawConn, timeoutMs: number): Promise<HeadOutcome> {
  const end = await conn.until(() => {
    const at = indexOf(conn.buffer, CRLFCRLF);
    return at >= 0 ? at : undefined;
  }, timeoutMs);
  if (end === undefined) return conn.ended ? { kind: 'closed', error: conn.errorCode } : { kind: 'timeout' };
  const head = latin1(conn.take(end + 4)).slice(0, -4);
  const [statusLine = '', ...rest] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}${name === 'set-cookie' ? '\n' : ', '}${value}`;
  }
  const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { kind: 'response', status, statusLine: statusLine.slice(0, 120), headers };
}

/** "403", "426 (Sec-WebSocket-Version: 13)", "closed without a response (ECONNRESET)", "no response within 3000 ms". */
export function describeHead(outcome: HeadOutcome, timeoutMs?: number): string {
  if (outcome.kind === 'response')
    return outcome.status === 0 ? `not HTTP: ${JSON.stringify(outcome.statusLine.slice(0, 40))}` : String(outcome.status);
  if (outcome.kind === 'closed') return `closed without a response${outcome.error ? ` (${outcome.error})` : ''}`;
  return `no response${timeoutMs === undefined ? '' : ` within ${timeoutMs} ms`}`;
}

export interface HttpResponse extends HttpHead {
  readonly body: string;
}

/**
 * One request with `Connection: close`; the body is read by Content-Length, chunked encoding or
 * until the server closes. Undefined when no complete answer came within `timeoutMs`.
 */
export async function httpExchange(
  conn: RawConn,
  request: {
    readonly method: string;
    readonly path: string;
    readonly host: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string;
  },
  timeoutMs: number,
): Promise<HttpResponse | undefined> {
  const started = performance.now();
  const body = request.body === undefined ? undefined : utf8(request.body);
  const lines = [
    `${request.method} ${request.path} HTTP/1.1`,
    `Host: ${request.host}`,
    'Connection: close',
    'User-Agent: hardened-ws-audit',
  ];
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
  await conn.write(concat([fromLatin1(`${lines.join('\r\n')}\r\n\r\n`), body ?? new Uint8Array(0)]));
  const head = await readHead(conn, timeoutMs);
  if (head.kind !== 'response') return undefined;
  const remaining = () => timeoutMs - (performance.now() - started);
  const length = head.headers['content-length'];
  let bytes: Uint8Array | undefined;
  if (length !== undefined) {
    const n = Number(length);
    bytes = await conn.until(() => (conn.buffer.length >= n ? conn.take(n) : undefined), remaining());
  } else if (/chunked/i.test(head.headers['transfer-encoding'] ?? '')) {
    bytes = await conn.until(() => dechunk(conn.buffer), remaining());
  } else {
    await conn.waitEnded(remaining());
    bytes = conn.take(conn.buffer.length);
  }
  return bytes === undefined ? undefined : { ...head, body: text(bytes) };
}

/** The body of a complete chunked message, or undefined while incomplete. */
function dechunk(buffer: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = indexOf(buffer, utf8('\r\n'), at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(latin1(buffer.subarray(at, lineEnd)), 16);
    if (!Number.isFinite(size)) return concat(parts);
    if (size === 0) return concat(parts);
    if (buffer.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
