/**
 * The single source of truth for the server's options: flag, environment variable, config-file
 * key (the flag's name), default, validation and help text. `--help` and docs/configuration.md
 * are generated from this table (channel namespaces, file-only, from namespaces.ts).
 */
import { z } from 'zod';
import type { Namespaces } from './namespaces.ts';
import { redisUrlProblem } from './redis-url.ts';
import { booleanFlag, byteSize, count, duration, rate } from './units.ts';

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

/**
 * A secret presented as `Authorization: Bearer <secret>`: at least 32 characters of RFC 6750's
 * token68 (letters, digits, `-._~+/`, then `=` padding), since nothing else can be presented intact.
 */
const bearerSecret = z
  .string()
  .min(32, 'must be at least 32 characters')
  .max(512)
  .regex(/^[A-Za-z0-9._~+/-]+=*$/, 'must be letters, digits and - . _ ~ + / (a bearer token), e.g. from `openssl rand -hex 32`');

const url = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

export const optionSpecs = {
  config: spec({
    flag: 'config',
    env: 'CONFIG',
    default: undefined,
    kind: 'string',
    help: 'JSON config file: any option below by its flag name, and channel namespaces (see "Config file" below); flags and environment variables win over it',
    schema: z.string().min(1).max(4096),
  }),
  port: spec({
    flag: 'port',
    env: 'PORT',
    default: '8080',
    kind: 'string',
    help: 'TCP port to listen on (0 picks a free one)',
    schema: z.string().trim().regex(/^\d+$/, 'expected a port number').transform(Number).pipe(z.number().int().min(0).max(65535)),
  }),
  host: spec({
    flag: 'host',
    env: 'HOST',
    default: '127.0.0.1',
    kind: 'string',
    help: 'Interface to bind (0.0.0.0 for all)',
    schema: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9.:\-[\]]+$/, 'expected a host name or IP address'),
  }),
  tls: spec({
    flag: 'tls',
    env: 'TLS',
    default: 'false',
    kind: 'boolean',
    help: 'Serve HTTPS/WSS with --cert and --key',
    schema: booleanFlag,
  }),
  cert: spec({
    flag: 'cert',
    env: 'TLS_CERT',
    default: './cert.pem',
    kind: 'string',
    help: 'PEM certificate (chain) file for --tls',
    schema: z.string().min(1),
  }),
  key: spec({
    flag: 'key',
    env: 'TLS_KEY',
    default: './key.pem',
    kind: 'string',
    help: 'PEM private key file for --tls',
    schema: z.string().min(1),
  }),
  authVerifyUrl: spec({
    flag: 'auth-verify-url',
    env: 'AUTH_VERIFY_URL',
    default: undefined,
    kind: 'string',
    help: 'Auth service verify endpoint; unset = the embedded auth service',
    schema: url,
  }),
  authVerifySecret: spec({
    flag: 'auth-verify-secret',
    env: 'AUTH_VERIFY_SECRET',
    default: undefined,
    kind: 'string',
    secret: true,
    help: 'Bearer secret for /auth/verify (≥ 32 chars); random per process when unset with the embedded service',
    schema: bearerSecret,
  }),
  ticketTtl: spec({
    flag: 'ticket-ttl',
    env: 'TICKET_TTL',
    default: '30s',
    kind: 'string',
    help: 'Lifetime of an issued ticket',
    schema: duration(100, 600_000),
  }),
  sessionTtl: spec({
    flag: 'session-ttl',
    env: 'SESSION_TTL',
    default: '30m',
    kind: 'string',
    help: 'Idle timeout of a login session: it ends this long after login or after its latest ticket request (each one extends it), and never later than --session-max-age',
    schema: duration(1_000, 30 * 86_400_000),
  }),
  sessionMaxAge: spec({
    flag: 'session-max-age',
    env: 'SESSION_MAX_AGE',
    default: '8h',
    kind: 'string',
    help: 'Absolute lifetime of a login session, from login, however often it is extended (the sockets it authorises end with it)',
    schema: duration(1_000, 400 * 86_400_000),
  }),
  authTimeout: spec({
    flag: 'auth-timeout',
    env: 'AUTH_TIMEOUT',
    default: '5s',
    kind: 'string',
    help: 'Deadline for the auth message after the socket opens (then 4408)',
    schema: duration(100, 60_000),
  }),
  verifyTimeout: spec({
    flag: 'verify-timeout',
    env: 'VERIFY_TIMEOUT',
    default: '2s',
    kind: 'string',
    help: 'Timeout of one ticket verification (then 1013)',
    schema: duration(50, 30_000),
  }),
  maxAuthFrame: spec({
    flag: 'max-auth-frame',
    env: 'MAX_AUTH_FRAME',
    default: '4KiB',
    kind: 'string',
    help: 'Largest accepted auth message',
    schema: byteSize(256, 65_536),
  }),
  maxMessage: spec({
    flag: 'max-message',
    env: 'MAX_MESSAGE',
    default: '64KiB',
    kind: 'string',
    help: 'Largest accepted message after auth (then 1009)',
    schema: byteSize(256, 16 * 1024 * 1024),
  }),
  demoUsers: spec({
    flag: 'demo-users',
    env: 'DEMO_USERS',
    default: 'demo:demo,alice:alice',
    kind: 'string',
    secret: true,
    help: 'Embedded auth service users as user:password,user2:password2 (default demo:demo,alice:alice: two people can try the chat)',
    schema: z.string().min(3).max(65_536),
  }),
  // --- before the upgrade
  allowedOrigins: spec({
    flag: 'allowed-origins',
    env: 'ALLOWED_ORIGINS',
    default: 'self',
    kind: 'string',
    help: 'Comma-separated origins allowed to open /ws and to call login, ticket and logout (exact scheme://host:port); "self" = the server\'s own origins (see --public-origin); "*" = any (warns)',
    schema: z.string().trim().min(1).max(8_192),
  }),
  publicOrigin: spec({
    flag: 'public-origin',
    env: 'PUBLIC_ORIGIN',
    default: undefined,
    kind: 'string',
    help: 'Comma-separated origins clients reach this server at (e.g. https://chat.example.com behind TLS termination): other Host headers get 421 (DNS rebinding) and "self" means these; unset = the listen address and port (plus localhost on loopback; on 0.0.0.0 or :: IP literals and localhost only)',
    schema: z.string().trim().min(1).max(8_192),
  }),
  allowMissingOrigin: spec({
    flag: 'allow-missing-origin',
    env: 'ALLOW_MISSING_ORIGIN',
    default: 'true',
    kind: 'boolean',
    help: 'Accept upgrades, login, ticket and logout requests without an Origin header (non-browser clients)',
    schema: booleanFlag,
  }),
  maxConnections: spec({
    flag: 'max-connections',
    env: 'MAX_CONNECTIONS',
    default: '20000',
    kind: 'string',
    help: 'Global cap on open sockets (then 503)',
    schema: count(1, 10_000_000),
  }),
  maxConnectionsPerIp: spec({
    flag: 'max-connections-per-ip',
    env: 'MAX_CONNECTIONS_PER_IP',
    default: '256',
    kind: 'string',
    help: 'Open sockets per client IP (then 429)',
    schema: count(1, 10_000_000),
  }),
  upgradeRate: spec({
    flag: 'upgrade-rate',
    env: 'UPGRADE_RATE',
    default: '20/s,60',
    kind: 'string',
    help: 'Upgrades per client IP: rate/s,burst (then 429 with Retry-After)',
    schema: rate,
  }),
  // --- after the upgrade
  messageRate: spec({
    flag: 'message-rate',
    env: 'MESSAGE_RATE',
    default: '50/s,100',
    kind: 'string',
    help: 'Messages per connection: rate/s,burst (then 4429)',
    schema: rate,
  }),
  maxConnectionsPerUser: spec({
    flag: 'max-connections-per-user',
    env: 'MAX_CONNECTIONS_PER_USER',
    default: '16',
    kind: 'string',
    help: 'Open sockets per authenticated user; the newest gets 4430',
    schema: count(1, 100_000),
  }),
  maxBuffered: spec({
    flag: 'max-buffered',
    env: 'MAX_BUFFERED',
    default: '1MiB',
    kind: 'string',
    help: 'Bytes queued for sending to one client before it is closed as a slow consumer (4413)',
    schema: byteSize(1_024, 256 * 1024 * 1024),
  }),
  heartbeatInterval: spec({
    flag: 'heartbeat-interval',
    env: 'HEARTBEAT_INTERVAL',
    default: '30s',
    kind: 'string',
    help: 'Server ping interval',
    schema: duration(1_000, 3_600_000),
  }),
  heartbeatTimeout: spec({
    flag: 'heartbeat-timeout',
    env: 'HEARTBEAT_TIMEOUT',
    default: '10s',
    kind: 'string',
    help: 'A peer that has not answered a ping within this is dropped',
    schema: duration(500, 3_600_000),
  }),
  sessionWarning: spec({
    flag: 'session-warning',
    env: 'SESSION_WARNING',
    default: '60s',
    kind: 'string',
    help: 'How long before session expiry the client gets session.expiring',
    schema: duration(0, 3_600_000),
  }),
  // --- auth service resilience
  maxVerifications: spec({
    flag: 'max-verifications',
    env: 'MAX_VERIFICATIONS',
    default: '256',
    kind: 'string',
    help: 'Verifications in flight at once (excess → 1013)',
    schema: count(1, 100_000),
  }),
  breakerThreshold: spec({
    flag: 'breaker-threshold',
    env: 'BREAKER_THRESHOLD',
    default: '5',
    kind: 'string',
    help: 'Consecutive auth-service failures that open the circuit breaker',
    schema: count(1, 1_000),
  }),
  breakerCooldown: spec({
    flag: 'breaker-cooldown',
    env: 'BREAKER_COOLDOWN',
    default: '10s',
    kind: 'string',
    help: 'How long the open breaker fails fast (1013) before letting one verification through',
    schema: duration(100, 600_000),
  }),
  // --- embedded auth service brute-force limits
  loginRate: spec({
    flag: 'login-rate',
    env: 'LOGIN_RATE',
    default: '0.2/s,10',
    kind: 'string',
    help: 'Password attempts per client IP, and failures per username from addresses that failed for it in the last 15 min: rate/s,burst (then 429)',
    schema: rate,
  }),
  ticketRate: spec({
    flag: 'ticket-rate',
    env: 'TICKET_RATE',
    default: '1/s,20',
    kind: 'string',
    help: 'Tickets per login session: rate/s,burst (then 429)',
    schema: rate,
  }),
  // --- scale-out
  redisUrl: spec({
    flag: 'redis-url',
    env: 'REDIS_URL',
    default: undefined,
    kind: 'string',
    secret: true,
    help: 'redis:// or rediss:// URL of one Redis, or redis+cluster://host:port[,host:port…] (rediss+cluster:// for TLS) naming some nodes of a Redis Cluster (Redis ≥ 7): tickets, sessions, pub/sub, per-user caps and revocations shared by every instance; unset = in memory',
    schema: z
      .string()
      .trim()
      .superRefine((text, ctx) => {
        const problem = redisUrlProblem(text);
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
      }),
  }),
  maxChannels: spec({
    flag: 'max-channels',
    env: 'MAX_CHANNELS',
    default: '32',
    kind: 'string',
    help: 'Channels one connection may subscribe to',
    schema: count(1, 10_000),
  }),
  presenceLease: spec({
    flag: 'presence-lease',
    env: 'PRESENCE_LEASE',
    default: '15s',
    kind: 'string',
    help: "With --redis-url: how long a presence entry outlives its instance's last renewal (renewed every third of it), so a killed instance's subscribers leave presence within this time",
    schema: duration(300, 600_000),
  }),
  trustProxy: spec({
    flag: 'trust-proxy',
    env: 'TRUST_PROXY',
    default: undefined,
    kind: 'string',
    help: 'Comma-separated proxy IPs whose X-Forwarded-For names the client (for per-IP limits and ticket binding behind a load balancer)',
    schema: z
      .string()
      .trim()
      .regex(/^[0-9A-Fa-f.:,\s]{2,4096}$/, 'expected comma-separated IP addresses')
      .transform((text) =>
        text
          .split(',')
          .map((ip) => ip.trim())
          .filter(Boolean),
      ),
  }),
  // --- operations
  drainTimeout: spec({
    flag: 'drain-timeout',
    env: 'DRAIN_TIMEOUT',
    default: '10s',
    kind: 'string',
    help: 'On SIGTERM/SIGINT, how long to wait for sockets to close',
    schema: duration(0, 600_000),
  }),
  adminToken: spec({
    flag: 'admin-token',
    env: 'ADMIN_TOKEN',
    default: undefined,
    kind: 'string',
    secret: true,
    help: 'Bearer token for /admin/* (≥ 32 chars); the admin API is off when unset',
    schema: bearerSecret,
  }),
  logLevel: spec({
    flag: 'log-level',
    env: 'LOG_LEVEL',
    default: 'info',
    kind: 'string',
    help: 'trace, debug, info, warn, error, fatal or silent',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  }),
  logFormat: spec({
    flag: 'log-format',
    env: 'LOG_FORMAT',
    default: 'json',
    kind: 'string',
    help: 'json (one JSON object per line) or pretty (`time level msg key=value…`, for a terminal)',
    schema: z.enum(['json', 'pretty']),
  }),
  metricsPort: spec({
    flag: 'metrics-port',
    env: 'METRICS_PORT',
    default: '9464',
    kind: 'string',
    help: 'Port of the separate plain-HTTP listener serving GET /metrics (Prometheus); 0 picks a free one; off disables it',
    schema: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^(\d+|off)$/, 'expected a port number or off')
      .transform((text) => (text === 'off' ? null : Number(text)))
      .pipe(z.number().int().min(0).max(65535).nullable()),
  }),
  metricsHost: spec({
    flag: 'metrics-host',
    env: 'METRICS_HOST',
    default: '127.0.0.1',
    kind: 'string',
    help: 'Interface of the metrics listener (loopback by default)',
    schema: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9.:\-[\]]+$/, 'expected a host name or IP address'),
  }),
  metricsToken: spec({
    flag: 'metrics-token',
    env: 'METRICS_TOKEN',
    default: undefined,
    kind: 'string',
    secret: true,
    help: 'Bearer token (≥ 32 chars) that also exposes GET /metrics on the main port; unset = not on the main port',
    schema: bearerSecret,
  }),
  // --- server API and backend hooks (docs/api.md)
  apiKey: spec({
    flag: 'api-key',
    env: 'API_KEY',
    default: undefined,
    kind: 'string',
    secret: true,
    help: 'Bearer key(s) for the server API (POST /api/*), each ≥ 32 chars; several comma-separated for rotation (any of them is accepted); the API is off when unset',
    schema: z
      .string()
      .transform((text) => text.split(',').map((key) => key.trim()))
      .pipe(z.array(bearerSecret).min(1).max(16, 'at most 16 keys')),
  }),
  apiPort: spec({
    flag: 'api-port',
    env: 'API_PORT',
    default: undefined,
    kind: 'string',
    help: 'Serve the server API on its own plain-HTTP listener at this port (0 picks a free one) instead of under /api on the main port',
    schema: z.string().trim().regex(/^\d+$/, 'expected a port number').transform(Number).pipe(z.number().int().min(0).max(65535)),
  }),
  apiHost: spec({
    flag: 'api-host',
    env: 'API_HOST',
    default: '127.0.0.1',
    kind: 'string',
    help: 'Interface of the --api-port listener (loopback by default)',
    schema: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9.:\-[\]]+$/, 'expected a host name or IP address'),
  }),
  apiMaxBody: spec({
    flag: 'api-max-body',
    env: 'API_MAX_BODY',
    default: '256KiB',
    kind: 'string',
    help: "Largest server API request body (then 413); the data of a publish is also held to --max-message, as a client's",
    schema: byteSize(1_024, 64 * 1024 * 1024),
  }),
  hookRpcUrl: spec({
    flag: 'hook-rpc-url',
    env: 'HOOK_RPC_URL',
    default: undefined,
    kind: 'string',
    help: 'Backend endpoint that answers clients\' {"type":"rpc"} messages (POST, JSON); unset = no rpc',
    schema: url,
  }),
  hookSubscribeUrl: spec({
    flag: 'hook-subscribe-url',
    env: 'HOOK_SUBSCRIBE_URL',
    default: undefined,
    kind: 'string',
    help: 'Backend endpoint that decides subscribes in namespaces with "proxy" (POST, JSON)',
    schema: url,
  }),
  hookPublishUrl: spec({
    flag: 'hook-publish-url',
    env: 'HOOK_PUBLISH_URL',
    default: undefined,
    kind: 'string',
    help: 'Backend endpoint that decides client publishes in namespaces with "proxy" (POST, JSON)',
    schema: url,
  }),
  hookSecret: spec({
    flag: 'hook-secret',
    env: 'HOOK_SECRET',
    default: undefined,
    kind: 'string',
    secret: true,
    help: 'Sent to the backend hooks as Authorization: Bearer (≥ 32 chars); required when a hook URL is set',
    schema: bearerSecret,
  }),
  hookTimeout: spec({
    flag: 'hook-timeout',
    env: 'HOOK_TIMEOUT',
    default: '2s',
    kind: 'string',
    help: 'Deadline of one backend hook call (then an error reply: backend_unavailable)',
    schema: duration(50, 30_000),
  }),
  hookMaxInFlight: spec({
    flag: 'hook-max-in-flight',
    env: 'HOOK_MAX_IN_FLIGHT',
    default: '256',
    kind: 'string',
    help: 'Calls in flight at once to each backend hook (excess → backend_unavailable at once)',
    schema: count(1, 100_000),
  }),
  hookBreakerThreshold: spec({
    flag: 'hook-breaker-threshold',
    env: 'HOOK_BREAKER_THRESHOLD',
    default: '5',
    kind: 'string',
    help: 'Consecutive failures of a backend hook (timeout, error, non-200) that open its circuit breaker',
    schema: count(1, 1_000),
  }),
  hookBreakerCooldown: spec({
    flag: 'hook-breaker-cooldown',
    env: 'HOOK_BREAKER_COOLDOWN',
    default: '10s',
    kind: 'string',
    help: 'How long an open hook breaker answers backend_unavailable at once before trying the backend again',
    schema: duration(100, 600_000),
  }),
  rpcRate: spec({
    flag: 'rpc-rate',
    env: 'RPC_RATE',
    default: '10/s,20',
    kind: 'string',
    help: 'RPC calls per connection: rate/s,burst (then an error reply: rate_limited, the socket stays open)',
    schema: rate,
  }),
} as const;

export type OptionName = keyof typeof optionSpecs;
type ValueOf<S> = S extends OptionSpec<infer T> & { readonly default: infer D } ? (D extends string ? T : T | undefined) : never;

/** The validated configuration: options without a default may be undefined; namespaces come from the config file or the built-in default. */
export type Config = { readonly [K in OptionName]: ValueOf<(typeof optionSpecs)[K]> } & { readonly namespaces: Namespaces };
