/**
 * Obtaining a credential: tickets (from a command, or from hardened-ws's embedded auth service via
 * login), or a static header / query parameter sent with the upgrade. Every secret seen is handed
 * to `remember` so that no report line can carry it.
 */
import type { AuditHost } from './host.ts';
import { httpExchange } from './http.ts';
import type { RawConn } from './conn.ts';
import type { CredentialSpec } from './options.ts';
import type { Target } from './target.ts';

export class CredentialError extends Error {}

/** Opens a counted connection to the target (charged to the probe that asks). */
export type Opener = () => Promise<RawConn>;

export interface CredentialDeps {
  readonly host: AuditHost;
  readonly target: Target;
  readonly remember: (secret: string) => void;
}

/** The ticket modes send a first message; the handshake modes authenticate the upgrade itself. */
export const authStyle = (spec: CredentialSpec): 'none' | 'first-message' | 'handshake' =>
  spec.kind === 'none' ? 'none' : spec.kind === 'header' || spec.kind === 'query' ? 'handshake' : 'first-message';

/** Connections one ticket costs (the login flow's POST /auth/ticket). */
export const ticketConnections = (spec: CredentialSpec): number => (spec.kind === 'login' ? 1 : 0);

export class Credentials {
  #cookie: string | undefined;

  constructor(
    readonly spec: CredentialSpec,
    private readonly deps: CredentialDeps,
  ) {
    if (spec.kind === 'login') deps.remember(spec.password);
    if (spec.kind === 'header' || spec.kind === 'query') {
      deps.remember(spec.value);
      // "Bearer <token>": a server may echo the token alone.
      for (const part of spec.value.split(/\s+/)) if (part.length >= 8) deps.remember(part);
    }
  }

  /** Headers for an authenticated upgrade (the header mode). */
  get handshakeHeaders(): readonly (readonly [string, string])[] {
    return this.spec.kind === 'header' ? [[this.spec.name, this.spec.value]] : [];
  }

  /** The request target with the query credential added (the query mode). */
  pathWith(path: string): string {
    if (this.spec.kind !== 'query') return path;
    const separator = path.includes('?') ? '&' : '?';
    return `${path}${separator}${encodeURIComponent(this.spec.name)}=${encodeURIComponent(this.spec.value)}`;
  }

  /** Logs in once (login mode); later tickets reuse the session. `open` gives a counted connection to the target. */
  async prepare(open: Opener): Promise<void> {
    if (this.spec.kind === 'login' && this.#cookie === undefined)
      this.#cookie = await this.#login(open, this.spec.username, this.spec.password);
  }

  /** A fresh ticket, obtained for `origin`. */
  async ticket(open: Opener, origin: string): Promise<string> {
    if (this.spec.kind === 'ticket-cmd') {
      let result: { exitCode: number | null; stdout: string };
      try {
        result = await this.deps.host.runCommand(this.spec.command, {
          timeoutMs: 10_000,
          env: { HWS_AUDIT_URL: this.deps.target.url, HWS_AUDIT_ORIGIN: origin },
        });
      } catch (error) {
        throw new CredentialError(`--ticket-cmd: ${(error as Error).message}`);
      }
      const ticket = result.stdout.trim();
      if (result.exitCode !== 0) throw new CredentialError(`--ticket-cmd exited with ${result.exitCode}`);
      if (ticket === '' || /\s/.test(ticket)) throw new CredentialError('--ticket-cmd must print exactly one ticket');
      this.deps.remember(ticket);
      return ticket;
    }
    if (this.spec.kind !== 'login') throw new CredentialError('no ticket source (use --ticket-cmd or --login)');
    await this.prepare(open);
    const response = await this.#post(open, '/auth/ticket', '{}', origin, this.#cookie);
    if (response.status !== 201)
      throw new CredentialError(
        `POST /auth/ticket answered ${response.status || 'nothing'}${response.status === 429 ? ' (ticket rate limit)' : ''}`,
      );
    let ticket: unknown;
    try {
      ticket = (JSON.parse(response.body) as { ticket?: unknown }).ticket;
    } catch {
      ticket = undefined;
    }
    if (typeof ticket !== 'string' || ticket === '') throw new CredentialError('POST /auth/ticket did not return {"ticket": …}');
    this.deps.remember(ticket);
    return ticket;
  }

  async #login(open: Opener, username: string, password: string): Promise<string> {
    const response = await this.#post(open, '/auth/login', JSON.stringify({ username, password }), this.deps.target.ownOrigin);
    if (response.status !== 204 && response.status !== 200) {
      throw new CredentialError(
        `POST /auth/login answered ${response.status || 'nothing'}${response.status === 401 ? ' (wrong user or password)' : ''}`,
      );
    }
    const cookie = (response.headers['set-cookie'] ?? '').split('\n')[0]?.split(';')[0]?.trim() ?? '';
    if (!cookie.includes('=')) throw new CredentialError('POST /auth/login set no session cookie');
    this.deps.remember(cookie);
    this.deps.remember(cookie.slice(cookie.indexOf('=') + 1));
    return cookie;
  }

  async #post(
    open: Opener,
    path: string,
    body: string,
    origin: string,
    cookie?: string,
  ): Promise<{ status: number; headers: Readonly<Record<string, string>>; body: string }> {
    const conn = await open();
    try {
      const headers: Record<string, string> = { 'Content-Type': 'application/json', Origin: origin };
      if (cookie !== undefined) headers.Cookie = cookie;
      const response = await httpExchange(conn, { method: 'POST', path, host: this.deps.target.hostHeader, headers, body }, 10_000);
      return response ?? { status: 0, headers: {}, body: '' };
    } finally {
      conn.destroy();
    }
  }
}
