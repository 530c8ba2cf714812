/* global process, console, setTimeout */
/**
 * `npm run bench:heap -- [server] [sockets]` (default product-node, 2000): what an idle
 * authenticated socket keeps on the V8 heap. Takes a heap snapshot of a Node server with no
 * sockets and another with N idle authenticated sockets (after a forced GC each), keeps the
 * objects that exist only in the second (snapshot ids are stable within a process), and prints
 * bytes and objects per socket by type, each with the retainer chain most of them hang from.
 * Snapshots stay in .tmp/bench-heap/ for DevTools (Memory → Load). A Bun server (`product-bun`, `bun-serve`)
 * has no such snapshot by signal: JSC's live object counts by type and heap size are compared
 * instead (counts per socket, no bytes by type), with RSS per socket beside them.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { processRssBytes } from './lib/proc.mjs';
import { bin, root, SERVERS, startServer } from './lib/servers.mjs';
import { runLoad, serverDescriptor } from './lib/trial.mjs';

const args = process.argv.slice(2);
// `-- a.heapsnapshot b.heapsnapshot N`: report on two snapshots already taken (no server started).
const fromFiles = args[0]?.endsWith('.heapsnapshot');
const [serverName = 'product-node', count = '2000'] = fromFiles ? ['snapshots', args[2]] : args;
const sockets = Number(count);
const dir = path.join(root, '.tmp/bench-heap');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const snapshots = () =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.heapsnapshot'))
    .sort();

if (fromFiles) report(JSON.parse(readFileSync(args[0], 'utf8')), JSON.parse(readFileSync(args[1], 'utf8')), sockets);
else if (SERVERS[serverName]?.command === bin('bun')) await measureJsc();
else await measure();

/** Opens `sockets` idle authenticated sockets; resolves with a function that closes them. */
async function openSockets(server) {
  let stepped;
  const load = runLoad(
    'idle-holder.mjs',
    { server: serverDescriptor(server), steps: [sockets] },
    { runtime: 'node', stdin: 'pipe', onLine: (e) => stepped?.(e) },
  );
  const step = await new Promise((resolve) => (stepped = resolve));
  if (step.opened !== sockets) throw new Error(`opened ${step.opened} of ${sockets} sockets`);
  await sleep(2_000);
  return async () => {
    load.child.stdin.write('next\n');
    await load.done;
  };
}

async function measureJsc() {
  process.env.BENCH_JSC_TYPES = '1'; // read by the preloaded gc-hook.mjs in the server
  const server = await startServer(serverName);
  const before = await server.gc();
  const close = await openSockets(server);
  const after = await server.gc();
  const rss = processRssBytes(server.pid);
  await close();
  await server.stop();
  const per = (a, b) => ((a - b) / sockets).toFixed(2);
  console.log(
    `${serverName}: JSC heap ${per(after.heapSize, before.heapSize)} B (capacity ${per(after.heapCapacity, before.heapCapacity)} B, ` +
      `extra memory ${per(after.extraMemory, before.extraMemory)} B), ${per(after.objectCount, before.objectCount)} objects, ` +
      `RSS ${per(rss, before.rss)} B per idle authenticated socket (${sockets} sockets, after a forced GC)`,
  );
  const rows = Object.entries(after.types)
    .map(([type, count]) => [type, (count - (before.types[type] ?? 0)) / sockets])
    .filter(([, n]) => Math.abs(n) >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  for (const [type, n] of rows) console.log(`${n.toFixed(2).padStart(8)}×  ${type}`);
}

async function measure() {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const server = await startServer(serverName, { extraArgs: ['--heapsnapshot-signal=SIGTTIN', `--diagnostic-dir=${dir}`] });

  /** Signals a snapshot and waits until its file has stopped growing. */
  async function snapshot() {
    const before = snapshots().length;
    process.kill(server.pid, 'SIGTTIN');
    while (snapshots().length <= before) await sleep(500);
    const file = path.join(dir, snapshots().at(-1));
    for (let size = -1; ;) {
      await sleep(2_000);
      const now = statSync(file).size;
      if (now === size && now > 0) return file;
      size = now;
    }
  }

  await server.gc();
  const empty = await snapshot();
  const close = await openSockets(server);
  await server.gc();
  const loaded = await snapshot();
  await close();
  await server.stop();
  report(JSON.parse(readFileSync(empty, 'utf8')), JSON.parse(readFileSync(loaded, 'utf8')), sockets);
}

function report(before, after, n) {
  const {
    node_fields: nf,
    edge_fields: ef,
    node_types: [nodeTypes],
    edge_types: [edgeTypes],
  } = after.snapshot.meta;
  const [NF, EF] = [nf.length, ef.length];
  const [iType, iName, iId, iSize, iEdges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => nf.indexOf(f));
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f));
  const seen = new Set();
  for (let i = 0; i < before.nodes.length; i += before.snapshot.meta.node_fields.length) seen.add(before.nodes[i + iId]);
  const { nodes, edges, strings } = after;
  const total = nodes.length / NF;
  // First strong retainer of each node (enough to name what holds a group of objects).
  const retainer = new Int32Array(total).fill(-1);
  const viaEdge = new Int32Array(total).fill(-1);
  for (let node = 0, e = 0; node < total; node++) {
    for (let k = 0; k < nodes[node * NF + iEdges]; k++, e += EF) {
      const to = edges[e + eTo] / NF;
      const kind = edgeTypes[edges[e + eType]];
      if (kind !== 'weak' && kind !== 'shortcut' && retainer[to] === -1) [retainer[to], viaEdge[to]] = [node, e];
    }
  }
  const firstEdge = new Uint32Array(total + 1);
  for (let node = 0; node < total; node++) firstEdge[node + 1] = firstEdge[node] + nodes[node * NF + iEdges] * EF;
  // A plain object is named by its first property names (Object{code,phase}), a context by its variables.
  const keysOf = (node) => {
    const keys = [];
    for (let e = firstEdge[node]; e < firstEdge[node + 1] && keys.length < 5; e += EF)
      if (edgeTypes[edges[e + eType]] === 'property' || edgeTypes[edges[e + eType]] === 'context') keys.push(strings[edges[e + eName]]);
    return `{${keys.join(',')}}`;
  };
  const label = (node) => {
    const type = nodeTypes[nodes[node * NF + iType]];
    if (type.includes('string')) return type;
    const name = String(strings[nodes[node * NF + iName]]).slice(0, 40);
    return name === 'Object' || name === 'system / Context' ? `${type}:${name}${keysOf(node)}` : `${type}:${name}`;
  };
  const edgeLabel = (e) => {
    const kind = edgeTypes[edges[e + eType]];
    return kind === 'element' || kind === 'hidden' ? `[${edges[e + eName]}]` : strings[edges[e + eName]];
  };
  const groups = new Map();
  for (let node = 0; node < total; node++) {
    if (seen.has(nodes[node * NF + iId])) continue;
    const key = label(node);
    const group = groups.get(key) ?? { count: 0, bytes: 0, examples: [] };
    group.count++;
    group.bytes += nodes[node * NF + iSize];
    if (group.examples.length < 200) group.examples.push(node);
    groups.set(key, group);
  }
  const rows = [...groups].sort((a, b) => b[1].bytes - a[1].bytes);
  const sum = rows.reduce((acc, [, g]) => acc + g.bytes, 0);
  console.log(`${serverName}: ${(sum / n).toFixed(0)} bytes of new heap objects per idle authenticated socket (${n} sockets)`);
  for (const [key, group] of rows.slice(0, 40)) {
    const chains = new Map();
    for (const node of group.examples) {
      const chain = [];
      for (let x = node, depth = 0; depth < 4 && retainer[x] !== -1; depth++, x = retainer[x])
        chain.push(`${edgeLabel(viaEdge[x])} ← ${label(retainer[x])}`);
      chains.set(chain.join(' | '), (chains.get(chain.join(' | ')) ?? 0) + 1);
    }
    const [typical] = [...chains].sort((a, b) => b[1] - a[1])[0] ?? [''];
    console.log(
      `${(group.bytes / n).toFixed(0).padStart(7)} B ${(group.count / n).toFixed(2).padStart(6)}×  ${key}\n            via ${typical}`,
    );
  }
}
