/**
 * The suite's byte pipe and HTTP handshakes: src/audit's RawConn, request builder and head reader
 * on the runtime's audit host (src/runtime/audit-host.ts), with the suite's own rules on top —
 * loopback targets only, and a byte gate that never refuses (the suite's attacks are bounded by
 * their cases, not by an audit budget).
 */
import assert from 'node:assert/strict';
import { fromLatin1 } from '../../src/audit/bytes.ts';
import { RawConn } from '../../src/audit/conn.ts';
import { ConnectError, type TlsOptions } from '../../src/audit/host.ts';
import { describeHead, readHead, upgradeRequest as auditUpgradeRequest, type HeadOutcome } from '../../src/audit/http.ts';
import type { UpgradeRequestOptions as AuditUpgradeRequestOptions } from '../../src/audit/http.ts';
import { auditHost } from '../../src/runtime/audit-host.ts';

export { RawConn };
export { acceptFor, randomKey, readHead, type HeadOutcome, type HttpHead } from '../../src/audit/http.ts';
export { fromLatin1, latin1, text, utf8 } from '../../src/audit/bytes.ts';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls?: boolean;
  readonly ca?: string;
}

export function endpointOf(origin: string, ca?: string): Endpoint {
  const url = new URL(origin);
  return { host: url.hostname, port: Number(url.port), tls: url.protocol === 'https:', ca };
}

function assertLoopback(host: string): void {
  assert.ok(/^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '[::1]', `refusing non-loopback target ${host}`);
}

/** Never refuses a write: the suite sends what each case says. */
const unbounded = () => true;

/** A raw TCP (or TLS, verified against the endpoint's CA for the name localhost) connection to a loopback endpoint. */
export function openConn(endpoint: Endpoint, timeoutMs = 5_000): Promise<RawConn> {
  assertLoopback(endpoint.host);
  const tls = endpoint.tls ? { servername: 'localhost', ca: endpoint.ca, verify: true } : undefined;
  return RawConn.open(auditHost, { host: endpoint.host, port: endpoint.port, tls, timeoutMs }, unbounded);
}

/**
 * A TLS handshake alone, with the given versions and suites: "TLSv1.3 TLS_AES_256_GCM_SHA384"
 * (protocol and OpenSSL suite name), "refused (<error code>)", or "timeout".
 */
export async function tlsHandshake(endpoint: Endpoint, options: Partial<TlsOptions>, timeoutMs = 3_000): Promise<string> {
  assertLoopback(endpoint.host);
  const tls = { servername: 'localhost', ca: endpoint.ca, verify: true, ...options };
  try {
    const socket = await auditHost.connect(
      { host: endpoint.host, port: endpoint.port, tls, timeoutMs },
      { data: () => undefined, end: () => undefined, close: () => undefined },
    );
    socket.destroy();
    return `${socket.tls?.protocol} ${socket.tls?.cipher}`;
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    return error.code === 'ETIMEDOUT' ? 'timeout' : `refused (${error.code})`;
  }
}

/** True if the socket is gone (closed by the peer or an error) within `timeoutMs`; keeps reading meanwhile. */
export async function waitClosed(conn: RawConn, timeoutMs: number): Promise<boolean> {
  conn.resume();
  await conn.until(() => (conn.closed ? true : undefined), timeoutMs);
  return conn.closed;
}

export type UpgradeRequestOptions = Omit<AuditUpgradeRequestOptions, 'path'> & { readonly path?: string };

/** The bytes of an upgrade request (path /ws unless given): every header can be dropped or replaced. */
export const upgradeRequest = (o: UpgradeRequestOptions): string => auditUpgradeRequest({ ...o, path: o.path ?? '/ws' });

/** A one-line description of a handshake outcome, for diagnostics: the status, the version a 426 asks for, whether the socket then closed. */
export function describeOutcome(outcome: HeadOutcome, closedAfterMs?: number | null): string {
  if (outcome.kind !== 'response') return describeHead(outcome);
  const version = outcome.headers['sec-websocket-version'];
  const extra = version ? ` (Sec-WebSocket-Version: ${version})` : '';
  const closed =
    closedAfterMs === undefined ? '' : closedAfterMs === null ? ', socket left open' : `, closed after ${Math.round(closedAfterMs)} ms`;
  return `${describeHead(outcome)}${extra}${closed}`;
}

/**
 * Opens a raw connection, writes `request` (a string is sent byte for byte as latin1) without
 * waiting for the kernel to take it (a server closing early is observed, not a failed test), and
 * reads the response head.
 */
export async function sendRequest(
  endpoint: Endpoint,
  request: string | Uint8Array,
  timeoutMs = 3_000,
): Promise<{ conn: RawConn; outcome: HeadOutcome }> {
  const conn = await openConn(endpoint);
  void conn.write(typeof request === 'string' ? fromLatin1(request) : request);
  const outcome = await readHead(conn, timeoutMs);
  return { conn, outcome };
}
