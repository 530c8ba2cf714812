/** Reads the configuration: flags over environment over defaults, each option validated. */
import { ArgvError, tokenize } from './argv.ts';
import { optionSpecs, type Config, type OptionName, type OptionSpec } from './schema.ts';

/** A bad option: the message is one line naming the option and never echoing a secret value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** `option` null: the command line named no known option, and `detail` is the whole message. */
  constructor(
    readonly option: string | null,
    detail: string,
  ) {
    super(option === null ? detail : `invalid option --${option}: ${detail}`);
  }
}

export type LoadResult = { readonly kind: 'config'; readonly config: Config } | { readonly kind: 'help' };

const entries = Object.entries(optionSpecs) as [OptionName, OptionSpec][];

/** Reads flags over environment over defaults (an empty variable counts as unset), and validates every option. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LoadResult {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  let flags: Map<string, string>;
  try {
    flags = tokenize(argv, entries.map(([, s]) => s));
  } catch (error) {
    if (error instanceof ArgvError) throw new ConfigError(error.flag, error.message);
    throw error;
  }
  const config: Record<string, unknown> = {};
  for (const [name, s] of entries) {
    const raw = flags.get(s.flag) ?? (env[s.env] || undefined) ?? s.default;
    if (raw === undefined) {
      config[name] = undefined;
      continue;
    }
    const parsed = s.schema.safeParse(raw);
    if (!parsed.success) {
      const detail = parsed.error.issues[0]?.message ?? 'invalid value';
      // JSON.stringify keeps the message on one line whatever the input holds.
      throw new ConfigError(s.flag, s.secret ? detail : `${detail} (got ${JSON.stringify(raw.slice(0, 80))})`);
    }
    config[name] = parsed.data;
  }
  return { kind: 'config', config: config as Config };
}

/** `--help` text, generated from the option table. */
export function helpText(command: string): string {
  const rows = entries.map(([, s]) => {
    const flag = s.kind === 'boolean' ? `--${s.flag}` : `--${s.flag} <value>`;
    const def = s.default !== undefined && !s.secret ? ` (default: ${s.default})` : '';
    return `  ${flag.padEnd(30)} ${s.env.padEnd(20)} ${s.help}${def}`;
  });
  return [`Usage: ${command} [options]`, '', 'Options (flag, environment variable, meaning):', ...rows, `  ${'--help'.padEnd(30)} ${''.padEnd(20)} Show this help`].join('\n');
}
