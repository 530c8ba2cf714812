/**
 * The `hardened-ws audit` command line: one ws:// or wss:// URL and long options, parsed as
 * strictly as the server's own (src/config/argv.ts, for the reasons given there): every token is
 * accounted for or rejected, a value may start with "-", values are never echoed in errors (a
 * --login or --header value is a secret), and the same messages on Node, Bun and Deno — which
 * util.parseArgs (three implementations) would not guarantee. Units are the server's
 * (src/config/units.ts: 30s, 500ms, 64KiB).
 */
import { byteSize, count, duration } from '../config/units.ts';
import { DEFAULT_AUTH_MESSAGE, DEFAULT_MESSAGE, defaultOptions, type AuditOptions, type CredentialSpec } from './options.ts';
import { UsageError } from './target.ts';

interface Flag {
  readonly name: string;
  readonly value?: string;
  readonly help: string;
}

export const FLAGS: readonly Flag[] = [
  { name: 'origin', value: '<origin>', help: "the Origin presented as the endpoint's own (default: the URL's, https for wss)" },
  {
    name: 'ticket-cmd',
    value: '<command>',
    help: 'shell command that prints one fresh ticket (it gets HWS_AUDIT_URL and HWS_AUDIT_ORIGIN)',
  },
  {
    name: 'login',
    value: '<user[:password]>',
    help: "log in to hardened-ws's embedded auth service for tickets (password from HWS_AUDIT_PASSWORD if omitted)",
  },
  { name: 'header', value: "<'Name: value'>", help: 'send this header with every upgrade (for endpoints that authenticate the handshake)' },
  { name: 'query', value: '<name=value>', help: 'add this query parameter to every upgrade (same purpose)' },
  { name: 'auth-message', value: '<json>', help: `the first message, {ticket} replaced by the ticket (default ${DEFAULT_AUTH_MESSAGE})` },
  { name: 'message', value: '<json>', help: `a harmless message the endpoint accepts (default ${DEFAULT_MESSAGE})` },
  { name: 'only', value: '<id,id>', help: 'run only these probes (ids, or groups such as origin, handshake, tls); see --list' },
  { name: 'json', help: 'print the report as JSON on stdout (the table then goes to stderr)' },
  { name: 'html', value: '<file>', help: 'also write the report as an HTML page' },
  { name: 'max-connections', value: '<n>', help: 'cap on connections for the whole run; probes that do not fit are skipped' },
  { name: 'timeout', value: '<duration>', help: 'how long a silent socket may stay open before it counts as never closed (default 60s)' },
  { name: 'flood', value: '<n>', help: 'messages in the rate probe; ×4 pings in the ping flood; ×40 one-byte fragments (default 500)' },
  {
    name: 'flood-bytes',
    value: '<size>',
    help: 'requests the slow-reader probe sends without reading; above the ~10 MB kernels buffer on their own (default 16MiB)',
  },
  { name: 'max-message-probe', value: '<size>', help: 'largest message (and inflated bomb) tried after 1 MiB (default 16MiB)' },
  { name: 'settle', value: '<duration>', help: 'how long to wait for a close or an answer after each attack (default 2s)' },
  { name: 'connect-rate', value: '<n>', help: 'new connections per second, at most (default 10)' },
  { name: 'message-rate', value: '<n>', help: 'messages per second in the paced probes (default 40)' },
  { name: 'ca', value: '<file>', help: 'trust this CA (PEM) besides the system roots' },
  { name: 'insecure', help: 'audit a wss:// endpoint whose certificate does not verify' },
  { name: 'list', help: 'list the probes and exit' },
  { name: 'help', help: 'show this help' },
];

const BOOLEAN = new Set(FLAGS.filter((f) => f.value === undefined).map((f) => f.name));
const VALUED = new Set(FLAGS.filter((f) => f.value !== undefined).map((f) => f.name));
const CREDENTIAL_FLAGS = ['ticket-cmd', 'login', 'header', 'query'] as const;

export type ParsedCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'list' }
  | {
      readonly kind: 'run';
      readonly options: Omit<AuditOptions, 'ca'> & { readonly caFile?: string };
      readonly json: boolean;
      readonly htmlFile?: string;
    };

const safe = (text: string) => JSON.stringify(text.slice(0, 40)).slice(1, -1);

/** Raw values by flag, and the positional URL. */
function tokenize(argv: readonly string[]): { url: string | undefined; values: Map<string, string> } {
  const values = new Map<string, string>();
  let url: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--')) {
      if (token.startsWith('-') && token.length > 1)
        throw new UsageError(`unknown option "${safe(token)}": options have long names such as --origin; see --help`);
      if (url !== undefined) throw new UsageError('give exactly one ws:// or wss:// URL');
      url = token;
      continue;
    }
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : token.slice(eq + 1);
    if (BOOLEAN.has(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      values.set(name, 'true');
      continue;
    }
    if (!VALUED.has(name)) throw new UsageError(`unknown option "--${safe(name)}" (see --help)`);
    if (values.has(name)) throw new UsageError(`--${name} given twice`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} requires a value`);
    values.set(name, value);
  }
  return { url, values };
}

/** Parses with a zod schema from src/config/units.ts; the message names the option, never the value. */
function unit<T>(
  values: Map<string, string>,
  name: string,
  schema: { safeParse(v: string): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } },
  fallback: T,
): T {
  const raw = values.get(name);
  if (raw === undefined) return fallback;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--${name}: ${parsed.error.issues[0]?.message ?? 'invalid value'}`);
  return parsed.data;
}

function credentialOf(values: Map<string, string>, env: Readonly<Record<string, string | undefined>>): CredentialSpec {
  const given = CREDENTIAL_FLAGS.filter((f) => values.has(f));
  if (given.length > 1) throw new UsageError(`give one credential option, not ${given.map((f) => `--${f}`).join(' and ')}`);
  const command = values.get('ticket-cmd');
  if (command !== undefined) return { kind: 'ticket-cmd', command };
  const login = values.get('login');
  if (login !== undefined) {
    const colon = login.indexOf(':');
    const username = colon === -1 ? login : login.slice(0, colon);
    const password = colon === -1 ? env.HWS_AUDIT_PASSWORD : login.slice(colon + 1);
    if (username === '') throw new UsageError('--login needs a user name (user:password, or user with HWS_AUDIT_PASSWORD set)');
    if (password === undefined || password === '')
      throw new UsageError('--login needs a password (user:password, or set HWS_AUDIT_PASSWORD)');
    return { kind: 'login', username, password };
  }
  const header = values.get('header');
  if (header !== undefined) {
    const colon = header.indexOf(':');
    const name = colon === -1 ? '' : header.slice(0, colon).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError("--header must look like 'Name: value'");
    return { kind: 'header', name, value: header.slice(colon + 1).trim() };
  }
  const query = values.get('query');
  if (query !== undefined) {
    const eq = query.indexOf('=');
    if (eq <= 0) throw new UsageError('--query must look like name=value');
    return { kind: 'query', name: query.slice(0, eq), value: query.slice(eq + 1) };
  }
  return { kind: 'none' };
}

function jsonOption(values: Map<string, string>, name: string, fallback: string): string {
  const raw = values.get(name) ?? fallback;
  const probe = name === 'auth-message' ? raw.replace('{ticket}', '"t"') : raw;
  if (name === 'auth-message' && !raw.includes('{ticket}')) throw new UsageError('--auth-message must contain {ticket}');
  try {
    JSON.parse(probe);
  } catch {
    throw new UsageError(`--${name} must be JSON`);
  }
  return raw;
}

export function parseAuditArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  knownProbes: readonly string[],
): ParsedCommand {
  const { url, values } = tokenize(argv);
  if (values.has('help')) return { kind: 'help' };
  if (values.has('list')) return { kind: 'list' };
  if (url === undefined) throw new UsageError('give the ws:// or wss:// URL to audit (see --help)');
  const only = values
    .get('only')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of only ?? []) {
    const known = knownProbes.some((p) => p === id || p.startsWith(id.endsWith('.') ? id : `${id}.`));
    if (!known) throw new UsageError(`--only: no probe "${safe(id)}" (see --list)`);
  }
  const maxConnections = values.has('max-connections') ? unit(values, 'max-connections', count(1, 100_000), 0) : undefined;
  return {
    kind: 'run',
    json: values.has('json'),
    htmlFile: values.get('html'),
    options: {
      url,
      origin: values.get('origin'),
      credential: credentialOf(values, env),
      authMessage: jsonOption(values, 'auth-message', DEFAULT_AUTH_MESSAGE),
      message: jsonOption(values, 'message', DEFAULT_MESSAGE),
      only,
      timeoutMs: unit(values, 'timeout', duration(500, 600_000), defaultOptions.timeoutMs),
      flood: unit(values, 'flood', count(10, 100_000), defaultOptions.flood),
      floodBytes: unit(values, 'flood-bytes', byteSize(64 * 1024, 256 * 1024 * 1024), defaultOptions.floodBytes),
      maxMessageProbe: unit(values, 'max-message-probe', byteSize(1024 * 1024, 256 * 1024 * 1024), defaultOptions.maxMessageProbe),
      maxConnections,
      connectRate: unit(values, 'connect-rate', count(1, 1_000), defaultOptions.connectRate),
      messageRate: unit(values, 'message-rate', count(1, 10_000), defaultOptions.messageRate),
      caFile: values.get('ca'),
      insecure: values.has('insecure'),
      struggleMs: defaultOptions.struggleMs,
      settleMs: unit(values, 'settle', duration(100, 60_000), defaultOptions.settleMs),
    },
  };
}

export function auditHelp(command: string): string {
  const rows = FLAGS.map((f) => `  ${`--${f.name}${f.value ? ` ${f.value}` : ''}`.padEnd(32)} ${f.help}`);
  return [
    `Usage: ${command} audit <ws://… or wss://… URL> [options]`,
    '',
    'Checks a WebSocket endpoint against cross-site hijacking, malformed handshakes, missing auth',
    'deadlines, oversized and flooded messages, frame abuse, slow readers, idle peers and weak TLS.',
    'Every probe has a fixed connection, byte and time budget; the bound is printed before the run.',
    'Exit status: 0 the run completed and nothing failed; 1 a probe failed or could not run, or the run',
    'stopped early (the target looked strained); 2 usage error.',
    '',
    'Options:',
    ...rows,
  ].join('\n');
}
