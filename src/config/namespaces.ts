/**
 * Channel namespace options, set in the config file's `namespaces` object: the option table (the
 * docs are generated from it), the built-in default (the demo's `chat`), and their validation.
 */
import { z } from 'zod';
import { booleanFlag, count, duration } from './units.ts';

/** One namespace's options (durations in ms), as src/channels/namespaces.ts reads them. */
export interface NamespaceConfig {
  /** Publications kept per channel; 0 = no history (live delivery only). */
  readonly historySize: number;
  readonly historyTtl: number;
  readonly historyMetaTtl: number;
  readonly recovery: boolean;
  readonly presence: boolean;
  readonly joinLeave: boolean;
  /** Which client actions the backend decides (through the subscribe and publish hooks) instead of the claims. */
  readonly proxy: ProxyMode;
}

/** `both`: subscribes and client publishes; `off`: neither (the claims decide). */
export type ProxyMode = 'off' | 'subscribe' | 'publish' | 'both';

export type Namespaces = Readonly<Record<string, NamespaceConfig>>;

interface NamespaceOptionSpec {
  /** The key inside a namespace object. */
  readonly key: string;
  readonly default: string;
  readonly help: string;
  readonly schema: z.ZodType<unknown, string>;
}

/** The same bound as the stream port's MAX_HISTORY_SIZE (a unit test keeps them equal; config imports nothing). */
export const MAX_HISTORY_SIZE = 10_000;
export const MAX_NAMESPACES = 256;
/** A namespace is the part of a channel name before its first `:`: channel characters but the colon. */
export const NAMESPACE_NAME = /^[A-Za-z0-9_\-.@]{1,64}$/;

export const namespaceOptionSpecs: { readonly [K in keyof NamespaceConfig]: NamespaceOptionSpec } = {
  historySize: {
    key: 'history-size',
    default: '0',
    schema: count(0, MAX_HISTORY_SIZE),
    help: `Publications kept per channel (0..${MAX_HISTORY_SIZE}); 0 = no history: live delivery only, no offsets`,
  },
  historyTtl: {
    key: 'history-ttl',
    default: '5m',
    schema: duration(1_000, 30 * 86_400_000),
    help: "A channel's publications are dropped once it has had none for this long",
  },
  historyMetaTtl: {
    key: 'history-meta-ttl',
    default: '24h',
    schema: duration(1_000, 365 * 86_400_000),
    help: "A channel's position (offset and epoch) is kept this long after its last publication or read, so a client at the head of a quiet channel recovers; after it, a new epoch (at least history-ttl)",
  },
  recovery: {
    key: 'recovery',
    default: 'false',
    schema: booleanFlag,
    help: 'A client resubscribing with its last position gets what it missed (needs history-size > 0)',
  },
  presence: {
    key: 'presence',
    default: 'false',
    schema: booleanFlag,
    help: 'Clients may ask who is subscribed (presence, presence_stats)',
  },
  joinLeave: {
    key: 'join-leave',
    default: 'false',
    schema: booleanFlag,
    help: 'Subscribers are told when someone subscribes or leaves (join, leave)',
  },
  proxy: {
    key: 'proxy',
    default: 'false',
    schema: z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(['true', 'false', 'both', 'off', 'subscribe', 'publish'], 'expected true, false, subscribe or publish'))
      .transform((v): ProxyMode => (v === 'true' ? 'both' : v === 'false' ? 'off' : v)),
    help: "The application's backend decides subscribes and client publishes here (true), or only one of them (subscribe, publish), through --hook-subscribe-url and --hook-publish-url, instead of the claims (docs/api.md)",
  },
};

const specEntries = Object.entries(namespaceOptionSpecs) as [keyof NamespaceConfig, NamespaceOptionSpec][];

/** Without a config file that says otherwise: the demo's chat keeps 100 messages for 5 minutes, with presence. */
export const defaultNamespaces: Namespaces = {
  chat: {
    historySize: 100,
    historyTtl: 300_000,
    historyMetaTtl: 86_400_000,
    recovery: true,
    presence: true,
    joinLeave: true,
    proxy: 'off',
  },
};

/** A value in the file as the text a flag would carry; null when JSON gives something else. */
export function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A problem at `key` (a dotted path inside the file); `detail` is one line and echoes no secret. */
export type Complain = (key: string, detail: string) => Error;

/** Validates the file's `namespaces` value; throws what `complain` makes at the first problem. */
export function parseNamespaces(value: unknown, complain: Complain): Namespaces {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw complain('namespaces', 'expected an object of namespace name → options');
  const names = Object.keys(value);
  if (names.length > MAX_NAMESPACES) throw complain('namespaces', `at most ${MAX_NAMESPACES} namespaces`);
  const result: [string, NamespaceConfig][] = [];
  for (const name of names) {
    const where = `namespaces.${printable(name)}`;
    if (!NAMESPACE_NAME.test(name))
      throw complain(where, 'a namespace name is 1-64 of A-Z a-z 0-9 _ - . @ (the part of a channel name before its first ":")');
    result.push([name, parseOne((value as Record<string, unknown>)[name], where, complain)]);
  }
  // fromEntries defines own properties: a namespace named `__proto__` stays a namespace.
  return Object.fromEntries(result);
}

function parseOne(value: unknown, where: string, complain: Complain): NamespaceConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw complain(where, 'expected an object of options');
  const given = value as Record<string, unknown>;
  const known = new Set(specEntries.map(([, s]) => s.key));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) throw complain(`${where}.${printable(key)}`, `unknown namespace option (known: ${[...known].join(', ')})`);
  }
  const parsed: Record<string, unknown> = {};
  for (const [name, s] of specEntries) {
    const raw = s.key in given ? scalarText(given[s.key]) : s.default;
    if (raw === null) throw complain(`${where}.${s.key}`, 'expected a string, number or boolean');
    const result = s.schema.safeParse(raw);
    if (!result.success)
      throw complain(
        `${where}.${s.key}`,
        `${result.error.issues[0]?.message ?? 'invalid value'} (got ${JSON.stringify(raw.slice(0, 80))})`,
      );
    parsed[name] = result.data;
  }
  const options = parsed as unknown as NamespaceConfig;
  if (options.recovery && options.historySize === 0) throw complain(`${where}.recovery`, 'needs history-size > 0');
  if (options.historyMetaTtl < options.historyTtl) throw complain(`${where}.history-meta-ttl`, 'must be at least history-ttl');
  return options;
}

/** File text in a message: short, one line. */
export function printable(text: string, max = 40): string {
  return JSON.stringify(text.slice(0, max)).slice(1, -1);
}
