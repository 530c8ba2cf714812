/**
 * `npm run build:binary`: the single self-contained executable build/hardened-ws.
 * 1. generates src/runtime/static-manifest.gen.ts (the static files to embed, from static-files.ts);
 * 2. `bun build --compile` of src/binary.ts (Bun platform, static files read from the binary).
 *
 * The embedded files come from per-import `with { type: 'file' }` attributes, so no global
 * `--loader .js:file` is passed: that would turn every .js module of node_modules into a file too.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateStaticManifest } from './gen-static-manifest.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bun = fileURLToPath(new URL('../node_modules/.bin/bun', import.meta.url));
const outfile = 'build/hardened-ws';

generateStaticManifest();
mkdirSync(new URL('../build/', import.meta.url), { recursive: true });

// No autoloading of .env / bunfig.toml from whatever directory the binary is started in.
const args = [
  'build',
  '--compile',
  '--no-compile-autoload-dotenv',
  '--no-compile-autoload-bunfig',
  '--asset-naming=[name].[ext]',
  `--outfile=${outfile}`,
  'src/binary.ts',
];
process.stdout.write(`bun ${args.join(' ')}\n`);
const result = spawnSync(bun, args, { cwd: root, stdio: 'inherit' });
if (result.error) throw result.error;
process.exit(result.status ?? 1);
