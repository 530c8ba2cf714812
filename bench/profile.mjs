/* global process, console */
/**
 * `node bench/profile.mjs <echo|connect|gateway-connect|fanout|rtt> [product-node|product-bun|ws|…] [seconds]`: runs one
 * server under `--cpu-prof` with the scenario's load, then prints the top functions by self
 * time and the top files, from the .cpuprofile (kept in .tmp/bench-prof/ for DevTools).
 * Bun servers (product-bun, bun-serve) are profiled the same way, with `bun run --cpu-prof`.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { root, SERVERS, startServer } from './lib/servers.mjs';
import { runLoad, serverDescriptor } from './lib/trial.mjs';

const [scenario = 'echo', serverName = 'product-node', seconds = '5'] = process.argv.slice(2);
if (scenario === '--summarize') {
  summarize(JSON.parse(readFileSync(serverName, 'utf8')));
  process.exit(0);
}
const dir = path.join(root, '.tmp/bench-prof', `${serverName}-${scenario}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const scripts = {
  echo: ['echo.mjs', { connections: 16, depth: 64 }],
  connect: ['connect.mjs', { lanes: 8 }],
  'gateway-connect': ['connect.mjs', { lanes: 8, ticketsAhead: 40_000 }],
  fanout: ['fanout.mjs', { subscribers: 1000, window: 2 }],
  rtt: ['rtt.mjs', { connections: 10 }],
};
const [script, params] = scripts[scenario];
// Node and Bun both write a .cpuprofile on exit (the server exits on SIGTERM); Bun wants `=`.
const bun = SERVERS[serverName]?.command !== process.execPath;
const server = await startServer(serverName, {
  extraArgs: bun
    ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=200']
    : ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200'],
});
await runLoad(script, { ...params, server: serverDescriptor(server), warmupMs: 500, measureMs: Number(seconds) * 1000 }).done;
await server.stop();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${dir}`);
summarize(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
console.log(`\nprofile: ${path.relative(root, path.join(dir, file))} (open in Chrome DevTools → Performance)`);

function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = profile.samples.length;
  const self = new Map();
  const files = new Map();
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, hits] of counts) {
    const { callFrame: f } = byId.get(id);
    const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(`${root}/`, '')}:${f.lineNumber + 1}` : '(native)';
    const key = `${f.functionName || '(anonymous)'}  ${where}`;
    self.set(key, (self.get(key) ?? 0) + hits);
    const fileKey = f.url
      ? f.url
          .replace(/^file:\/\//, '')
          .replace(`${root}/`, '')
          .replace(/node_modules\/([^/]+(\/[^/]+)?)\/.*/, 'node_modules/$1')
      : `(${f.functionName || 'native'})`;
    files.set(fileKey, (files.get(fileKey) ?? 0) + hits);
  }
  // Inclusive ("total") time: every distinct function on a sampled stack gets the sample once.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (f) =>
    `${f.functionName || '(anonymous)'}  ${f.url ? `${f.url.replace(/^file:\/\//, '').replace(`${root}/`, '')}:${f.lineNumber + 1}` : '(native)'}`;
  const inclusive = new Map();
  for (const [id, hits] of counts) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame;
      if (!f.url.includes('dist/') && !f.url.includes('node_modules/')) continue;
      const key = keyOf(f);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    }
  }
  const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`samples: ${total}\n\ntop self time (function, location):`);
  for (const [k, v] of top(self, 30)) console.log(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
  console.log('\ntop total (inclusive) time, project and package functions:');
  for (const [k, v] of top(inclusive, 45)) console.log(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
  console.log('\ntop self time by file / package:');
  for (const [k, v] of top(files, 25)) console.log(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
}
