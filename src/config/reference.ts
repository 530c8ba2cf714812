/** docs/configuration.md, generated from the option table. */
import { optionSpecs, type OptionSpec } from './schema.ts';

/** docs/configuration.md, generated from the option table (a test fails when the file is stale). */
export function configurationReference(): string {
  const rows = (Object.values(optionSpecs) as OptionSpec[]).map((s) => {
    const def = s.default === undefined ? '—' : s.secret ? '(see meaning)' : `\`${s.default}\``;
    return `| \`--${s.flag}\` | \`${s.env}\` | ${def} | ${s.help.replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Every option is a command-line flag and an environment variable; the flag wins over the',
    'variable, the variable over the default, and an empty variable counts as unset. A bad value',
    'stops the server with exit status 2 and one line naming the option. Durations take `ms`, `s`,',
    '`m` or `h` (a bare number is seconds); sizes take `KiB` or `MiB`; rates are `N/s,burst`.',
    '',
    '| flag | environment | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
