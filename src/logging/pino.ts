/**
 * The server's logger: pino, JSON lines (`level` as pino's number, `time` in epoch ms, `msg`),
 * with every field that can hold a secret censored before the line is written.
 * `--log-format pretty` turns each line into `time level msg key=value…` with the small formatter
 * below (pino-pretty is not a dependency, and a terminal needs no more than this).
 */
import { pino, type Logger as PinoLogger } from 'pino';
import { BoundLogger, type Logger } from './logger.ts';

export type LogFormat = 'json' | 'pretty';

/**
 * Names of fields that hold (or may hold) a secret somewhere in src/: tickets, passwords, the
 * verify secret, admin and metrics tokens, session cookies (`hws_session`, also under the
 * `__Host-` prefix) and session ids, Authorization headers, and the Redis URL (it may carry a
 * password). Censored at the top level and up to two levels down (`req.headers.cookie`).
 */
export const secretFields = [
  'ticket',
  'tickets',
  'password',
  'secret',
  'verifySecret',
  'authVerifySecret',
  'token',
  'adminToken',
  'metricsToken',
  'cookie',
  'cookies',
  'set-cookie',
  'hws_session',
  '__Host-hws_session',
  'authorization',
  'sid',
  'redisUrl',
] as const;

const SECRET_NAMES: ReadonlySet<string> = new Set(secretFields);
const CENSORED = '[redacted]';
/** A secret name is censored at the top level and up to two levels down (`req.headers.cookie`). */
const MAX_DEPTH = 2;

/**
 * The fields with every value under a secret name replaced, copying only the objects it changes
 * (the caller's are never modified). One walk per line: pino's path-based `redact` with the
 * wildcard paths this needs re-evaluated ~50 paths per line, a third of a connect's CPU on Bun.
 */
export function censorSecrets<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) return value;
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = censorSecrets(item, depth + 1);
      if (next !== item) (copy ??= [...value])[i] = next;
    }
    return (copy ?? value) as T;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const name in record) {
    const item = record[name];
    const next = SECRET_NAMES.has(name) ? CENSORED : depth < MAX_DEPTH ? censorSecrets(item, depth + 1) : item;
    if (next !== item) (copy ??= { ...record })[name] = next;
  }
  return (copy ?? value) as T;
}

export function createLogger(level: string, write?: (line: string) => void, format: LogFormat = 'json'): Logger {
  const options = { level, base: undefined, formatters: { log: (fields: Record<string, unknown>) => censorSecrets(fields) } };
  if (format === 'pretty') {
    const out = write ?? ((line: string) => console.log(line.replace(/\n$/, '')));
    return censoring(pino(options, { write: (line: string) => out(prettyLine(line)) }));
  }
  // stdout is written synchronously, a write(2) per line. pino's default (asynchronous: a write
  // handed to the thread pool, the rest buffered) writes what is buffered synchronously when the
  // process exits, which can overtake the write still in the pool: `shutdown.done` was seen before
  // `shutdown.start` under load. Audit lines in order beat saving a thread-pool round trip per line.
  return censoring(write ? pino(options, { write }) : pino(options, pino.destination({ dest: 1, sync: true })));
}

/**
 * Children merge their bindings into each line's fields (BoundLogger) instead of being pino
 * children: pino writes a child's bindings and the line's fields side by side, so a key set at two
 * levels (`component` by a caller and by its callee) appeared twice in one JSON line. Merged, the
 * innermost value wins, and the fields formatter censors bindings like any other field.
 */
function censoring(instance: PinoLogger): Logger {
  const logger: Logger = {
    debug: instance.debug.bind(instance),
    info: instance.info.bind(instance),
    warn: instance.warn.bind(instance),
    error: instance.error.bind(instance),
    child: (bindings) => new BoundLogger(logger, bindings),
    isLevelEnabled: (level) => instance.isLevelEnabled(level),
  };
  return logger;
}

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line → `2026-01-01T00:00:00.000Z INFO msg key=value …` (newline-terminated). */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { level, time, msg, ...fields } = entry;
  const when = typeof time === 'number' ? new Date(time).toISOString() : String(time ?? '');
  const name = (typeof level === 'number' ? LEVELS[level] : undefined) ?? String(level);
  const pairs = Object.entries(fields).map(([k, v]) => `${k}=${prettyValue(v)}`);
  // The message is ours (a fixed event name or sentence); control characters are replaced all the same.
  // eslint-disable-next-line no-control-regex
  const text = String(msg ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ');
  return `${[when, name.padEnd(5), text, ...pairs].join(' ')}\n`;
}

/** Bare when unambiguous; otherwise JSON, which also keeps a hostile value from breaking the line. */
function prettyValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:/@+\-[\]]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}
