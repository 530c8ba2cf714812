/**
 * Reads the configuration: flag > environment variable > config file > default (an empty variable
 * counts as unset), every value through the option's own schema. The file is read by the caller
 * (config/ does no I/O): `loadConfigWithFile` takes the reader, `loadConfig` the text.
 */
import { ArgvError, tokenize } from './argv.ts';
import { ConfigError } from './error.ts';
import { parseConfigFile, type FileValues } from './file.ts';
import { defaultNamespaces } from './namespaces.ts';
import { optionSpecs, type Config, type OptionName, type OptionSpec } from './schema.ts';

export { ConfigError } from './error.ts';

export type LoadResult = { readonly kind: 'config'; readonly config: Config } | { readonly kind: 'help' };

/** The config file as read: its path (as given) and text. */
export interface ConfigFile {
  readonly path: string;
  readonly text: string;
}

const entries = Object.entries(optionSpecs) as [OptionName, OptionSpec][];

/** Reads `--config`/CONFIG (if set) with `readTextFile`, then loads. A file that cannot be read is a ConfigError on `config`. */
export async function loadConfigWithFile(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readTextFile: (path: string) => Promise<string>,
): Promise<LoadResult> {
  if (isHelp(argv)) return { kind: 'help' };
  const path = configPath(flagsOf(argv), env);
  if (path === undefined) return loadConfig(argv, env);
  let text: string;
  try {
    text = await readTextFile(path);
  } catch {
    throw new ConfigError('config', `cannot read ${JSON.stringify(path.slice(0, 200))}`);
  }
  return loadConfig(argv, env, { path, text });
}

/** Validates every option. With `--config`/CONFIG set, `file` must be that file's text. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, file?: ConfigFile): LoadResult {
  if (isHelp(argv)) return { kind: 'help' };
  const flags = flagsOf(argv);
  const path = configPath(flags, env);
  if (path !== undefined && file?.path !== path) throw new ConfigError('config', 'the config file was not read (use loadConfigWithFile)');
  const fromFile: FileValues | undefined = file === undefined ? undefined : parseConfigFile(file.path, file.text);
  const config: Record<string, unknown> = {};
  for (const [name, s] of entries) {
    const fileValue = fromFile?.options.get(name);
    const given = flags.get(s.flag) ?? (env[s.env] || undefined);
    const raw = given ?? fileValue ?? s.default;
    if (raw === undefined) {
      config[name] = undefined;
      continue;
    }
    const parsed = s.schema.safeParse(raw);
    if (!parsed.success) {
      const detail = parsed.error.issues[0]?.message ?? 'invalid value';
      // JSON.stringify keeps the message on one line whatever the input holds.
      const shown = s.secret ? detail : `${detail} (got ${JSON.stringify(raw.slice(0, 80))})`;
      throw given === undefined && fileValue !== undefined
        ? new ConfigError(s.flag, shown, fromFile!.path)
        : new ConfigError(s.flag, shown);
    }
    config[name] = parsed.data;
  }
  config.namespaces = fromFile?.namespaces ?? defaultNamespaces;
  return { kind: 'config', config: config as Config };
}

/** `--help` text, generated from the option table. */
export function helpText(command: string): string {
  const rows = entries.map(([, s]) => {
    const flag = s.kind === 'boolean' ? `--${s.flag}` : `--${s.flag} <value>`;
    const def = s.default !== undefined && !s.secret ? ` (default: ${s.default})` : '';
    return `  ${flag.padEnd(30)} ${s.env.padEnd(20)} ${s.help}${def}`;
  });
  return [
    `Usage: ${command} [options]`,
    '',
    'Options (flag, environment variable, meaning); each may also be set in the --config file by its flag name:',
    ...rows,
    `  ${'--help'.padEnd(30)} ${''.padEnd(20)} Show this help`,
    '',
    'Channel namespaces are set in the config file only; see docs/configuration.md.',
  ].join('\n');
}

const isHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');

function flagsOf(argv: readonly string[]): Map<string, string> {
  try {
    return tokenize(
      argv,
      entries.map(([, s]) => s),
    );
  } catch (error) {
    if (error instanceof ArgvError) throw new ConfigError(error.flag, error.message);
    throw error;
  }
}

function configPath(flags: Map<string, string>, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return flags.get(optionSpecs.config.flag) ?? (env[optionSpecs.config.env] || undefined);
}
