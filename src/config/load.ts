import { parseArgs } from 'citty';
import { optionSpecs, type Config, type OptionName, type OptionSpec } from './schema.ts';

/** A bad option: the message is one line naming the option and never echoing a secret value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly option: string, detail: string) {
    super(`invalid option --${option}: ${detail}`);
  }
}

export type LoadResult = { readonly kind: 'config'; readonly config: Config } | { readonly kind: 'help' };

const entries = Object.entries(optionSpecs) as [OptionName, OptionSpec][];

/** Reads flags over environment over defaults, and validates every option. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LoadResult {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  rejectUnknownFlags(argv);
  const args = parseArgs([...argv], Object.fromEntries(entries.map(([, s]) => [s.flag, { type: s.kind }])));
  const config: Record<string, unknown> = {};
  for (const [name, s] of entries) {
    const fromFlag = args[s.flag];
    const raw = fromFlag !== undefined ? String(fromFlag) : (env[s.env] ?? s.default);
    if (raw === undefined || raw === '') {
      config[name] = undefined;
      continue;
    }
    const parsed = s.schema.safeParse(raw);
    if (!parsed.success) {
      const detail = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(s.flag, s.secret ? detail : `${detail} (got "${raw.slice(0, 80)}")`);
    }
    config[name] = parsed.data;
  }
  return { kind: 'config', config: config as Config };
}

function rejectUnknownFlags(argv: readonly string[]): void {
  const known = new Set(entries.flatMap(([, s]) => (s.kind === 'boolean' ? [s.flag, `no-${s.flag}`] : [s.flag])));
  for (const token of argv) {
    if (!token.startsWith('-')) continue;
    const name = token.replace(/^--?/, '').split('=')[0] ?? '';
    if (!known.has(name)) throw new ConfigError(name, 'unknown option (see --help)');
  }
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
