/** docs/configuration.md from the option tables: flags, the config file's format, channel namespaces. */
import { defaultNamespaces, namespaceOptionSpecs, MAX_NAMESPACES } from './namespaces.ts';
import { optionSpecs, type OptionSpec } from './schema.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** docs/configuration.md, generated from the option tables (a test fails when the file is stale). */
export function configurationReference(): string {
  const rows = (Object.values(optionSpecs) as OptionSpec[]).map((s) => {
    const def = s.default === undefined ? '—' : s.secret ? '(see meaning)' : `\`${s.default}\``;
    return `| \`--${s.flag}\` | \`${s.env}\` | ${def} | ${cell(s.help)} |`;
  });
  const namespaceRows = Object.values(namespaceOptionSpecs).map((s) => `| \`${s.key}\` | \`${s.default}\` | ${cell(s.help)} |`);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts and src/config/namespaces.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Every option is a command-line flag, an environment variable and a key of the config file (the',
    "flag's name). The flag wins over the variable, the variable over the config file, the file over",
    'the default; an empty variable counts as unset. A bad value stops the server with exit status 2',
    'and one line naming the option (and the file, for a value from it); secret values are never',
    'repeated. Durations take `ms`, `s`, `m` or `h` (a bare number is seconds); sizes take `KiB` or',
    '`MiB`; rates are `N/s,burst`.',
    '',
    '| flag | environment | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    '## Config file',
    '',
    '`--config hardened-ws.json` (or `CONFIG=hardened-ws.json`) reads one JSON object. Its keys are',
    "the flags' names above, with the value as you would type it (a JSON number or boolean works",
    'too), plus `namespaces`. An unknown key, a value of the wrong kind, invalid JSON (reported by',
    'line and column) or a file that cannot be read stops the server with exit status 2. `config`',
    'itself cannot be set in the file.',
    '',
    '```json',
    '{',
    '  "host": "0.0.0.0",',
    '  "port": 8080,',
    '  "redis-url": "redis://redis:6379",',
    '  "message-rate": "50/s,100",',
    '  "namespaces": {',
    '    "chat": { "history-size": 100, "history-ttl": "5m", "recovery": true, "presence": true, "join-leave": true },',
    '    "news": { "history-size": 1000, "history-ttl": "1h", "recovery": true }',
    '  }',
    '}',
    '```',
    '',
    '## Channel namespaces',
    '',
    "A channel's namespace is the part of its name before the first `:` (`chat:room1` is in `chat`).",
    `The config file's \`namespaces\` object (at most ${MAX_NAMESPACES}) gives each namespace these options;`,
    'a channel without a `:`, or in a namespace the file does not name, has them all at their',
    'default: live delivery only, no history, no presence. A namespace name is 1–64 of',
    '`A-Z a-z 0-9 _ - . @`. `recovery` needs `history-size` above 0, and `history-meta-ttl` must be',
    'at least `history-ttl`.',
    '',
    // Remove when the channel handlers act on these (issue 14, phase 2).
    '> Status: these options are read and validated, and the history and presence stores they',
    '> configure exist (with their contract tests), but the channel handlers do not act on them yet:',
    '> offsets, recovery, presence and join/leave reach clients in the second phase of issue 14.',
    '',
    '| key | default | meaning |',
    '| --- | --- | --- |',
    ...namespaceRows,
    '',
    'Without a `namespaces` key (with or without a config file), the built-in namespaces apply:',
    '',
    '```json',
    JSON.stringify({ namespaces: builtIn() }, null, 2),
    '```',
    '',
  ].join('\n');
}

/** The built-in namespaces as a config file would write them. */
function builtIn(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, options] of Object.entries(defaultNamespaces)) {
    out[name] = {
      'history-size': options.historySize,
      'history-ttl': durationText(options.historyTtl),
      'history-meta-ttl': durationText(options.historyMetaTtl),
      recovery: options.recovery,
      presence: options.presence,
      'join-leave': options.joinLeave,
      proxy: options.proxy === 'both' ? true : options.proxy === 'off' ? false : options.proxy,
    };
  }
  return out;
}

/** Milliseconds in the largest unit that divides them: 300000 → "5m". */
function durationText(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
