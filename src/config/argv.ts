/**
 * Strict command-line tokenizer over the option table. Hand-written on purpose: general parsers
 * (citty, mri) treat `--tls=0` and `--tls false` as true and read a secret starting with "-" as a
 * flag name (echoing it in the error). Here every token is accounted for or rejected.
 */
import type { OptionSpec } from './schema.ts';

/** `flag` names the option at fault; null when the token names no option (the message says it all). */
export class ArgvError extends Error {
  constructor(
    readonly flag: string | null,
    detail: string,
  ) {
    super(detail);
  }
}

/** Raw values by flag name, exactly as typed. */
export function tokenize(argv: readonly string[], specs: readonly OptionSpec[]): Map<string, string> {
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--')) throw new ArgvError(null, notAnOption(token, specs));
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : token.slice(eq + 1);
    const negated = name.startsWith('no-') ? byFlag.get(name.slice(3)) : undefined;
    if (negated?.kind === 'boolean' && inline === undefined) {
      values.set(negated.flag, 'false');
      continue;
    }
    const spec = byFlag.get(name);
    if (spec === undefined) throw new ArgvError(null, `unknown option "--${safeName(name)}" (see --help)`);
    if (spec.kind === 'boolean') {
      values.set(spec.flag, inline ?? 'true');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new ArgvError(spec.flag, 'requires a value');
    values.set(spec.flag, value);
  }
  return values;
}

/** Names come from the command line: keep them short and printable in error messages. */
function safeName(name: string): string {
  return JSON.stringify(name.slice(0, 40)).slice(1, -1);
}

/** `-p 80` or a stray word: say that options are long, and which one the letters may have meant. */
function notAnOption(token: string, specs: readonly OptionSpec[]): string {
  if (!token.startsWith('-')) return `unexpected argument "${safeName(token)}" (options start with --; see --help)`;
  const letters = token.replace(/^-+/, '');
  // The shortest flag starting with those letters, when one is shortest (-p: --port, not --public-origin).
  const [best, next] = specs.filter((s) => letters !== '' && s.flag.startsWith(letters)).sort((a, b) => a.flag.length - b.flag.length);
  const hint = best !== undefined && (next === undefined || next.flag.length > best.flag.length) ? ` (did you mean --${best.flag}?)` : '';
  return `unknown option "${safeName(token)}"${hint}: options have long names such as --port; see --help`;
}
