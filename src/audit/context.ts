/**
 * What a probe runs with: counted, paced connections to the target only (its budget enforced:
 * a write or connect past it is refused), upgrades with any Origin, authenticated sessions, and
 * cleanup of every socket it opened when it ends.
 */
import { text } from './bytes.ts';
import { RawConn } from './conn.ts';
import type { Credentials } from './credential.ts';
import { authStyle } from './credential.ts';
import type { Budget } from './finding.ts';
import type { AuditHost, TlsOptions } from './host.ts';
import { acceptFor, randomKey, readHead, upgradeRequest, type HeadOutcome, type HttpHead, type UpgradeRequestOptions } from './http.ts';
import type { AuditOptions } from './options.ts';
import type { Target } from './target.ts';
import { RawWebSocket, type CloseResult } from './ws.ts';

/** A probe tried to spend more than its budget: a bug in the probe, reported as an error. */
export class BudgetError extends Error {}

const CONNECT_TIMEOUT_MS = 5_000;
/** How long an answer to a handshake may take before it counts as none. */
export const HEAD_TIMEOUT_MS = 3_000;
/** How long the audit waits for auth.ok or a close after sending a ticket. */
const AUTH_WAIT_MS = 3_000;
/** Connections kept aside for retrying a rate-limited (429/503) upgrade. */
export const RETRY_POOL = 6;

export interface RunState {
  readonly host: AuditHost;
  readonly target: Target;
  readonly options: AuditOptions;
  readonly credentials: Credentials;
  readonly totals: { connections: number; bytes: number };
  retriesLeft: number;
  /** Earliest time (performance.now()) the next connection may open. */
  nextConnectAt: number;
  /** Every secret seen: scrubbed from every report line. */
  readonly secrets: Set<string>;
  usable?: Promise<SessionCheck>;
}

export type UpgradeResult =
  | { readonly kind: 'open'; readonly ws: RawWebSocket; readonly head: HttpHead; readonly ms: number }
  | { readonly kind: 'refused'; readonly outcome: HeadOutcome; readonly conn: RawConn; readonly ms: number };

export type AuthResult =
  { readonly kind: 'accepted'; readonly confirmed: boolean } | { readonly kind: 'rejected'; readonly close: CloseResult };

export type SessionResult =
  { readonly ok: true; readonly ws: RawWebSocket; readonly authenticated: boolean } | { readonly ok: false; readonly why: string };

/** Whether a session (authenticated when there is a credential) keeps a valid message open. */
export type SessionCheck =
  { readonly usable: true; readonly authenticated: boolean; readonly replied: boolean } | { readonly usable: false; readonly why: string };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class ProbeContext {
  readonly used = { connections: 0, bytes: 0 };
  overrun: string | undefined;
  readonly startedAt = performance.now();
  readonly #conns = new Set<RawConn>();
  #cancelled = false;

  constructor(
    readonly run: RunState,
    readonly budget: Budget,
  ) {}

  get target(): Target {
    return this.run.target;
  }

  get options(): AuditOptions {
    return this.run.options;
  }

  get credentials(): Credentials {
    return this.run.credentials;
  }

  /** How long to wait for the server to close or answer after an attack. */
  get settleMs(): number {
    return this.options.settleMs;
  }

  /** A write the server has not taken within this long means it stopped reading. */
  get stallMs(): number {
    return Math.round(this.options.settleMs * 1.5);
  }

  /** Milliseconds left of the probe's time budget. */
  remaining(): number {
    return this.budget.ms - (performance.now() - this.startedAt);
  }

  /** A raw connection to the target (TLS for wss://), counted against the budget and paced. */
  async connect(tls: Partial<TlsOptions> = {}): Promise<RawConn> {
    if (this.#cancelled) throw new BudgetError('the probe was stopped');
    if (this.used.connections >= this.budget.connections) {
      if (this.run.retriesLeft <= 0) throw new BudgetError(`connection budget (${this.budget.connections}) spent`);
      this.run.retriesLeft--;
    }
    this.used.connections++;
    this.run.totals.connections++;
    const wait = this.run.nextConnectAt - performance.now();
    this.run.nextConnectAt = Math.max(performance.now(), this.run.nextConnectAt) + 1000 / this.options.connectRate;
    await sleep(wait);
    const t = this.target;
    const tlsOptions = t.secure ? { servername: t.host, ca: this.options.ca, verify: !this.options.insecure, ...tls } : undefined;
    const conn = await RawConn.open(
      this.run.host,
      { host: t.host, port: t.port, tls: tlsOptions, timeoutMs: CONNECT_TIMEOUT_MS },
      (bytes) => this.#spend(bytes),
    );
    this.#conns.add(conn);
    if (this.#cancelled) conn.destroy();
    return conn;
  }

  #spend(bytes: number): boolean {
    if (this.used.bytes + bytes > this.budget.bytes) {
      this.overrun ??= `byte budget (${this.budget.bytes}) would be exceeded`;
      return false;
    }
    this.used.bytes += bytes;
    this.run.totals.bytes += bytes;
    return true;
  }

  /** Sends an upgrade request built from `request` (defaults: the target's path and Host, own Origin) and reads the answer. */
  async request(
    request: Partial<UpgradeRequestOptions> | string,
    timeoutMs = HEAD_TIMEOUT_MS,
  ): Promise<{ conn: RawConn; outcome: HeadOutcome; ms: number }> {
    const conn = await this.connect();
    const bytes =
      typeof request === 'string'
        ? request
        : upgradeRequest({ host: this.target.hostHeader, path: this.target.path, origin: this.target.ownOrigin, ...request });
    const started = performance.now();
    void conn.write(Uint8Array.from(bytes, (c) => c.charCodeAt(0) & 0xff));
    const outcome = await readHead(conn, timeoutMs);
    return { conn, outcome, ms: Math.round(performance.now() - started) };
  }

  /**
   * A valid upgrade. `origin` undefined = the target's own, null = none. With `credential`, the
   * handshake credential (header or query) is sent. A 429/503 is retried once after its
   * Retry-After (at most 5 s), from the run's small retry pool.
   */
  async upgrade(
    o: { origin?: string | null; credential?: boolean; extraHeaders?: readonly (readonly [string, string])[]; path?: string } = {},
  ): Promise<UpgradeResult> {
    const credential = o.credential ?? true;
    for (let attempt = 0; ; attempt++) {
      const key = randomKey();
      const extraHeaders = [...(credential ? this.credentials.handshakeHeaders : []), ...(o.extraHeaders ?? [])];
      const path = credential ? this.credentials.pathWith(o.path ?? this.target.path) : (o.path ?? this.target.path);
      const { conn, outcome, ms } = await this.request({
        key,
        origin: o.origin === undefined ? this.target.ownOrigin : o.origin,
        extraHeaders,
        path,
      });
      if (outcome.kind === 'response' && outcome.status === 101 && outcome.headers['sec-websocket-accept'] === (await acceptFor(key))) {
        return { kind: 'open', ws: new RawWebSocket(conn), head: outcome, ms };
      }
      const limited = outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503);
      if (!limited || attempt > 0 || this.run.retriesLeft <= 0 || this.remaining() < 6_000) return { kind: 'refused', outcome, conn, ms };
      conn.destroy();
      const retryAfter = Number(outcome.headers['retry-after']);
      await sleep(Math.min(5_000, Number.isFinite(retryAfter) ? retryAfter * 1000 : 1_000));
    }
  }

  ticket(origin = this.target.ownOrigin): Promise<string> {
    return this.run.credentials.ticket(() => this.connect(), origin);
  }

  /** Logs in (login mode) if that has not happened yet. */
  prepareCredentials(): Promise<void> {
    return this.run.credentials.prepare(() => this.connect());
  }

  /** Sends the auth message with `ticket`; accepted = an auth.ok message, or the socket still open after 3 s. */
  async authenticate(ws: RawWebSocket, ticket: string): Promise<AuthResult> {
    const from = ws.frames.length;
    const since = performance.now();
    // A function replacer: a `$` in a ticket must not act as a replacement pattern.
    await ws.sendText(this.options.authMessage.replace('{ticket}', () => JSON.stringify(ticket)));
    const ok = await ws.message((m) => m.type === 'auth.ok', AUTH_WAIT_MS, from);
    if (ok) return { kind: 'accepted', confirmed: true };
    if (ws.ended) return { kind: 'rejected', close: await ws.closeResult(0, since) };
    return { kind: 'accepted', confirmed: false };
  }

  /** A socket ready for messages: upgraded as the target's own page, authenticated when there is a credential. */
  async session(): Promise<SessionResult> {
    const upgraded = await this.upgrade();
    if (upgraded.kind !== 'open') return { ok: false, why: `the upgrade was refused (${describeRefusal(upgraded)})` };
    const style = authStyle(this.credentials.spec);
    if (style !== 'first-message') return { ok: true, ws: upgraded.ws, authenticated: style === 'handshake' };
    const auth = await this.authenticate(upgraded.ws, await this.ticket());
    if (auth.kind === 'rejected') return { ok: false, why: `a fresh ticket was rejected (close ${auth.close.code})` };
    return { ok: true, ws: upgraded.ws, authenticated: true };
  }

  /** Whether sessions keep a valid message open (checked once per run): the frame probes need one that does. */
  sessionUsable(): Promise<SessionCheck> {
    this.run.usable ??= (async (): Promise<SessionCheck> => {
      const session = await this.session();
      if (!session.ok) return { usable: false, why: session.why };
      const from = session.ws.frames.length;
      await session.ws.sendText(this.options.message);
      const closed = await session.ws.closeOr(() => session.ws.frames.length > from, this.settleMs);
      session.ws.destroy();
      if (closed.code !== null) {
        const before = session.authenticated
          ? ' (set --message to one it accepts)'
          : ' before authentication (pass --ticket-cmd, --login or --header to test after it)';
        return { usable: false, why: `the endpoint closes a socket that sends a valid message${before}: ${closed.code}` };
      }
      return { usable: true, authenticated: session.authenticated, replied: session.ws.frames.length > from };
    })();
    return this.run.usable;
  }

  /** Stops the probe: no new connections, every open one closed (its pending waits then end). */
  cancel(): void {
    this.#cancelled = true;
    this.cleanup();
  }

  /** Closes every socket this probe opened. */
  cleanup(): void {
    for (const conn of this.#conns) conn.destroy();
    this.#conns.clear();
  }
}

export function describeRefusal(result: Extract<UpgradeResult, { kind: 'refused' }>): string {
  const o = result.outcome;
  if (o.kind === 'response' && o.status === 101) return '101 without a valid Sec-WebSocket-Accept';
  if (o.kind === 'response') return o.status === 0 ? 'not HTTP' : String(o.status);
  if (o.kind === 'closed') return `closed without a response${o.error ? `, ${o.error}` : ''}`;
  return `no response within ${HEAD_TIMEOUT_MS} ms`;
}

/** The first bytes of a data frame, printable, for evidence (never a credential: scrubbed by the report). */
export const preview = (payload: Uint8Array): string => JSON.stringify(text(payload.subarray(0, 60)));
