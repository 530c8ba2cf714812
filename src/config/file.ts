/**
 * The config file (`--config`, env CONFIG): one JSON object whose keys are the flags' names, e.g.
 * `{"port": 8080, "redis-url": "redis://…", "namespaces": {"chat": {"history-size": 100}}}`.
 * Read here into the same raw text a flag carries (validated later by the same schema) and the
 * namespaces. Errors name the file and the key, on one line, and never repeat the file's text:
 * JSON parse errors give a line and column only (a parser's message may quote a secret).
 */
import { ConfigError } from './error.ts';
import { parseNamespaces, printable, scalarText, type Namespaces } from './namespaces.ts';
import { optionSpecs, type OptionName } from './schema.ts';

export interface FileValues {
  readonly path: string;
  /** Raw option text by option name, as a flag would give it. */
  readonly options: ReadonlyMap<OptionName, string>;
  /** Absent when the file has no `namespaces` key. */
  readonly namespaces: Namespaces | undefined;
}

export const MAX_CONFIG_FILE_CHARS = 1024 * 1024;

const byFlag = new Map(
  (Object.entries(optionSpecs) as [OptionName, (typeof optionSpecs)[OptionName]][]).map(([name, s]) => [s.flag, name]),
);

export function parseConfigFile(path: string, text: string): FileValues {
  const where = printable(path, 200);
  const fail = (key: string | null, detail: string) => new ConfigError(key, detail, where);
  if (text.length > MAX_CONFIG_FILE_CHARS) throw fail(null, `larger than ${MAX_CONFIG_FILE_CHARS} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fail(null, `not valid JSON${jsonErrorPlace(error, text)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail(null, 'expected one JSON object of option name → value');
  const options = new Map<OptionName, string>();
  let namespaces: Namespaces | undefined;
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'namespaces') {
      namespaces = parseNamespaces(raw, fail);
      continue;
    }
    const name = byFlag.get(key);
    if (name === undefined)
      throw fail(printable(key), `unknown option${suggestion(key)} (keys are the flags' names; see docs/configuration.md)`);
    if (name === 'config') throw fail(key, 'cannot be set inside a config file');
    const textValue = scalarText(raw);
    if (textValue === null) throw fail(key, 'expected a string, number or boolean');
    options.set(name, textValue);
  }
  return { path: where, options, namespaces };
}

/** " (did you mean "max-connections"?)" for camelCase or snake_case spellings of a flag. */
function suggestion(key: string): string {
  const kebab = key
    .replace(/_/g, '-')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
  return kebab !== key && byFlag.has(kebab) ? ` (did you mean "${kebab}"?)` : '';
}

/** " at line L column C" when the parser says where (V8 gives a position); nothing else from its message. */
function jsonErrorPlace(error: unknown, text: string): string {
  const match = /position (\d+)/.exec(error instanceof Error ? error.message : '');
  if (match === null) return '';
  const position = Math.min(Number(match[1]), text.length);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return ` at line ${line} column ${column}`;
}
