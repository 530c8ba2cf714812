/**
 * The single source of truth for the server's options: flag, environment variable, default,
 * validation and help text. `--help` and docs/configuration.md are generated from this table.
 */
import { z } from 'zod';
import { booleanFlag, byteSize, duration } from './units.ts';

export interface OptionSpec<T = unknown> {
  readonly flag: string;
  readonly env: string;
  /** Default as the user would type it; undefined means "not set". */
  readonly default: string | undefined;
  readonly kind: 'string' | 'boolean';
  readonly help: string;
  /** Validates and converts the raw text. */
  readonly schema: z.ZodType<T, string>;
  /** Never echoed back (help shows no default, errors show no value). */
  readonly secret?: boolean;
}

const spec = <T, D extends string | undefined>(s: OptionSpec<T> & { readonly default: D }) => s;

const url = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

export const optionSpecs = {
  port: spec({ flag: 'port', env: 'PORT', default: '8080', kind: 'string', help: 'TCP port to listen on (0 picks a free one)',
    schema: z.string().trim().regex(/^\d+$/, 'expected a port number').transform(Number).pipe(z.number().int().min(0).max(65535)) }),
  host: spec({ flag: 'host', env: 'HOST', default: '127.0.0.1', kind: 'string', help: 'Interface to bind (0.0.0.0 for all)',
    schema: z.string().trim().min(1).max(255).regex(/^[A-Za-z0-9.:\-[\]]+$/, 'expected a host name or IP address') }),
  tls: spec({ flag: 'tls', env: 'TLS', default: 'false', kind: 'boolean', help: 'Serve HTTPS/WSS with --cert and --key', schema: booleanFlag }),
  cert: spec({ flag: 'cert', env: 'TLS_CERT', default: './cert.pem', kind: 'string', help: 'PEM certificate (chain) file for --tls', schema: z.string().min(1) }),
  key: spec({ flag: 'key', env: 'TLS_KEY', default: './key.pem', kind: 'string', help: 'PEM private key file for --tls', schema: z.string().min(1) }),
  authVerifyUrl: spec({ flag: 'auth-verify-url', env: 'AUTH_VERIFY_URL', default: undefined, kind: 'string',
    help: 'Auth service verify endpoint; unset = the embedded auth service', schema: url }),
  authVerifySecret: spec({ flag: 'auth-verify-secret', env: 'AUTH_VERIFY_SECRET', default: undefined, kind: 'string', secret: true,
    help: 'Bearer secret for /auth/verify (≥ 32 chars); random per process when unset with the embedded service',
    schema: z.string().min(32, 'must be at least 32 characters').max(512) }),
  ticketTtl: spec({ flag: 'ticket-ttl', env: 'TICKET_TTL', default: '30s', kind: 'string', help: 'Lifetime of an issued ticket', schema: duration(100, 600_000) }),
  sessionTtl: spec({ flag: 'session-ttl', env: 'SESSION_TTL', default: '8h', kind: 'string', help: 'Lifetime of a login session (and of the sockets it authorises)', schema: duration(1_000, 30 * 86_400_000) }),
  authTimeout: spec({ flag: 'auth-timeout', env: 'AUTH_TIMEOUT', default: '5s', kind: 'string', help: 'Deadline for the auth message after the socket opens (then 4408)', schema: duration(100, 60_000) }),
  verifyTimeout: spec({ flag: 'verify-timeout', env: 'VERIFY_TIMEOUT', default: '2s', kind: 'string', help: 'Timeout of one ticket verification (then 1013)', schema: duration(50, 30_000) }),
  maxAuthFrame: spec({ flag: 'max-auth-frame', env: 'MAX_AUTH_FRAME', default: '4KiB', kind: 'string', help: 'Largest accepted auth message', schema: byteSize(256, 65_536) }),
  maxMessage: spec({ flag: 'max-message', env: 'MAX_MESSAGE', default: '64KiB', kind: 'string', help: 'Largest accepted message after auth (then 1009)', schema: byteSize(256, 16 * 1024 * 1024) }),
  demoUsers: spec({ flag: 'demo-users', env: 'DEMO_USERS', default: 'demo:demo', kind: 'string', secret: true,
    help: 'Embedded auth service users as user:password,user2:password2 (default demo:demo)', schema: z.string().min(3).max(65_536) }),
  logLevel: spec({ flag: 'log-level', env: 'LOG_LEVEL', default: 'info', kind: 'string', help: 'trace, debug, info, warn, error, fatal or silent',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) }),
} as const;

export type OptionName = keyof typeof optionSpecs;
type ValueOf<S> = S extends OptionSpec<infer T> & { readonly default: infer D } ? (D extends string ? T : T | undefined) : never;

/** The validated configuration: options without a default may be undefined. */
export type Config = { readonly [K in OptionName]: ValueOf<(typeof optionSpecs)[K]> };
