/* global process, console, URL, fetch, setTimeout */
/**
 * `npm run bench:cluster` (issue 17, "past one Redis"): two measurements, apart from `npm run bench`.
 *
 * 1. Redis's own cost here, for the capacity model: redis-benchmark against one redis-server
 *    (pinned to the load core, the client on the other) — SET, GET, PUBLISH (no subscriber, and to
 *    three subscriber connections, as three instances would be), XADD with MAXLEN ~, and EVALSHA of
 *    the product's append script (one channel: XADD, position, PEXPIREs, PUBLISH) — then against
 *    the master owning the keys in a 3-master cluster: classic PUBLISH (which every node relays over
 *    the cluster bus), SPUBLISH, and the cluster form of the append script (`#!lua`, SPUBLISH, the
 *    writer recorded) — each without and with pipelining (-P 16). Reported: ops/s and redis-server
 *    CPU-µs per op (all nodes' CPU time over the run divided by the requests), the figure that does
 *    not depend on the client. All three masters share one core here: the cluster's figures are
 *    per-op costs, not its aggregate capacity (that is per-master rate × masters, core for core).
 * 2. Deliveries across instances, one Redis vs a 3-master Redis Cluster, the same load: three Node
 *    instances (the bench's `chat` with history) pinned to core 0, Redis and the Bun load generator
 *    on core 1; 420 subscribers split over instances B and C, six channels, the publisher on A
 *    (bench/load/cross.mjs). Reported per trial: deliveries/s, the instances' CPU-µs per delivery,
 *    Redis CPU-µs per publication, and how busy the machine was with other work (the machine is
 *    shared: CPU per delivery is the figure to compare, rates move with the neighbours).
 *
 * Options: --reps N (default 3, alternating single/cluster), --only redis|deliveries, --window N
 * (publishes undelivered at most, default 8).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { processCpuSeconds, loadavg } from './lib/proc.mjs';
import { startBenchRedis } from './lib/redis.mjs';
import { startBenchCluster } from './lib/redis-cluster.mjs';
import { root, setRedisUrl, startServer } from './lib/servers.mjs';
import { LOAD_CORE, runLoad, SERVER_CORE, serverDescriptor } from './lib/trial.mjs';
import { append } from '../dist/backends/redis/stream-scripts.js';

const run = promisify(execFile);
const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const reps = Number(flag('--reps') ?? 3);
const only = flag('--only');
const inFlight = Number(flag('--window') ?? 8);
const log = (line) => console.log(line);
const results = { startedAt: new Date().toISOString(), loadavgBefore: loadavg() };
// The harness (and the subscriber connections it opens) stays on the load core, like run.mjs.
try {
  await run('taskset', ['-a', '-cp', String(LOAD_CORE), String(process.pid)]);
} catch {
  // taskset missing: the trials still pin their processes
}

/** Busy seconds of the whole machine (all cores) from /proc/stat. */
function machineBusy() {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq) / 100;
}

const BODY = JSON.stringify({ from: 'bench', data: 'x'.repeat(64) });

/** The port of the master serving `key`'s slot (every key of a case shares one hash tag: one node). */
async function ownerPort(admin, key) {
  const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
  const ranges = await admin.call('CLUSTER', 'SLOTS');
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  return Number(range[2][1]);
}

/**
 * One Redis, or one master of a 3-master cluster (the keys of each case hash to it; the CPU counted
 * is every node's, so the cluster bus's share of a classic PUBLISH shows). `cluster` runs the
 * product's cluster forms: SPUBLISH, and the `#!lua` append that also records its writer.
 */
async function redisOwnCost(kind) {
  const cluster = kind === 'cluster';
  const redis = cluster ? await startBenchCluster(LOAD_CORE, 3) : await startBenchRedis(LOAD_CORE);
  const pids = cluster ? redis.pids : [redis.pid];
  const seed = cluster ? redis.ports[0] : Number(new URL(redis.url).port);
  const seedClient = new Redis({ host: '127.0.0.1', port: seed });
  const subscribers = [];
  const rows = [];
  try {
    const script = cluster ? `#!lua\n${append('cluster')}` : append('single');
    const appendArgs = (tag) => [`hws:s:{${tag}}`, `hws:m:{${tag}}`, BODY, '100', '300000', '600000', 'e0', `hws:n:{${tag}}`];
    const cases = cluster
      ? [
          ['PUBLISH (classic: every node), no subscriber', ['PUBLISH', 'hws:ch:{chat:p}', BODY], 'hws:ch:{chat:p}'],
          ['SPUBLISH, no subscriber', ['SPUBLISH', 'hws:ch:{chat:s}', BODY], 'hws:ch:{chat:s}'],
          ['SPUBLISH, 3 subscribers', ['SPUBLISH', 'hws:ch:{chat:s3}', BODY], 'hws:ch:{chat:s3}', 'ssubscribe'],
          ['EVALSHA append #!lua (history 100, 3 subs)', 'append:chat:app', 'hws:n:{chat:app}', 'ssubscribe'],
        ]
      : [
          ['SET', ['-t', 'set', '-r', '100000', '-d', '100']],
          ['GET', ['-t', 'get', '-r', '100000', '-d', '100']],
          ['PUBLISH, no subscriber', ['PUBLISH', 'hws:ch:{chat:p}', BODY]],
          ['PUBLISH, 3 subscribers', ['PUBLISH', 'hws:ch:{chat:p3}', BODY], 'hws:ch:{chat:p3}', 'subscribe'],
          ['XADD MAXLEN ~ 100', ['XADD', 'hws:s:{chat:xadd}', 'MAXLEN', '~', '100', '*', 'p', BODY]],
          ['EVALSHA append (history 100, 3 subscribers)', 'append:chat:app', 'hws:n:{chat:app}', 'subscribe'],
        ];
    for (const [name, given, channel, subscribe] of cases) {
      const port = cluster ? await ownerPort(seedClient, channel) : seed;
      const node = new Redis({ host: '127.0.0.1', port });
      let args = given;
      if (typeof given === 'string') {
        const sha = await node.script('LOAD', script);
        args = ['EVALSHA', sha, '2', ...appendArgs(given.slice('append:'.length))];
      }
      node.disconnect();
      if (subscribe !== undefined) {
        for (let i = 0; i < 3; i++) {
          const sub = new Redis({ host: '127.0.0.1', port });
          await sub[subscribe](channel);
          subscribers.push(sub);
        }
      }
      for (const pipeline of [1, 16]) {
        const requests = pipeline === 1 ? 100_000 : 400_000;
        const cpu0 = pids.map(processCpuSeconds);
        const t0 = process.hrtime.bigint();
        const { stdout } = await run('taskset', [
          '-c',
          String(SERVER_CORE),
          'redis-benchmark',
          '-p',
          String(port),
          '-n',
          String(requests),
          '-c',
          '50',
          '-P',
          String(pipeline),
          '-q',
          ...args,
        ]);
        const wall = Number(process.hrtime.bigint() - t0) / 1e9;
        const cpu = pids.map((pid, i) => processCpuSeconds(pid) - cpu0[i]).reduce((a, b) => a + b, 0);
        // -q prints `<test>: <n> requests per second, p50=… msec` (the last of its \r-separated progress lines).
        const rps = Number(/([\d.]+) requests per second/.exec(stdout.split('\r').at(-1) ?? '')?.[1]);
        const row = { kind, name, pipeline, requests, opsPerSecond: rps, redisCpuUsPerOp: (cpu / requests) * 1e6, redisBusy: cpu / wall };
        rows.push(row);
        log(
          `  ${kind.padEnd(7)} ${name.padEnd(46)} -P ${String(pipeline).padEnd(2)} ${Math.round(rps).toLocaleString('en').padStart(10)} ops/s   redis CPU ${row.redisCpuUsPerOp.toFixed(2)} µs/op (busy ${(row.redisBusy * 100).toFixed(0)}%)`,
        );
      }
      for (const sub of subscribers.splice(0)) sub.disconnect();
    }
  } finally {
    for (const sub of subscribers) sub.disconnect();
    seedClient.disconnect();
    await redis.stop();
  }
  return rows;
}

async function untilReady(server, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [status, body] = await fetch(`${server.origin}/readyz`).then(
      async (r) => [r.status, await r.text()],
      (error) => [0, String(error)],
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`instance not ready: /readyz ${status} ${body}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Others' share of the machine (cores) above which a trial is run again (at most twice; the quietest is kept). */
const NOISY = 0.2;

async function quietTrial(kind) {
  let best;
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await deliveryTrial(kind);
    if (best === undefined || result.foreignCores < best.foreignCores) best = result;
    if (result.foreignCores <= NOISY) break;
    if (attempt < 2) log('  (others used more than 20% of a core: run again)');
  }
  return best;
}

async function deliveryTrial(kind) {
  const redis = kind === 'cluster' ? await startBenchCluster(LOAD_CORE, 3) : await startBenchRedis(LOAD_CORE);
  const redisPids = kind === 'cluster' ? redis.pids : [redis.pid];
  setRedisUrl(redis.url);
  const instances = [];
  try {
    for (let i = 0; i < 3; i++) instances.push(await startServer('redis-history', { core: SERVER_CORE }));
    // Listening is not ready: on a cluster the connections to every master come up after (logins answer 503 until then).
    await Promise.all(instances.map((server) => untilReady(server)));
    const [A, B, C] = instances;
    let open = null;
    let window = null;
    const { done } = runLoad(
      'cross.mjs',
      {
        publishOn: serverDescriptor(A),
        subscribeOn: [serverDescriptor(B), serverDescriptor(C)],
        subscribers: 420,
        channels: 6,
        window: inFlight,
      },
      {
        timeoutMs: 120_000,
        onLine: (entry, child) => {
          const pids = () => [...instances.map((s) => s.pid), ...redisPids, child.pid];
          if (entry.phase === 'measure-start') {
            const cpu0 = pids().map(processCpuSeconds);
            const busy0 = machineBusy();
            const t0 = process.hrtime.bigint();
            open = () => {
              const cpu = pids().map((pid, i) => processCpuSeconds(pid) - cpu0[i]);
              return { cpu, busy: machineBusy() - busy0, wall: Number(process.hrtime.bigint() - t0) / 1e9 };
            };
          }
          if (entry.phase === 'measure-end') window = { ...entry, ...open() };
        },
      },
    );
    await done;
    const n = instances.length;
    const instanceCpu = window.cpu.slice(0, n).reduce((a, b) => a + b, 0);
    const redisCpu = window.cpu.slice(n, n + redisPids.length).reduce((a, b) => a + b, 0);
    const loadCpu = window.cpu.at(-1);
    const ours = instanceCpu + redisCpu + loadCpu;
    const result = {
      kind,
      deliveries: window.deliveries,
      perSecond: window.perSecond,
      publications: window.publications,
      instanceCpuUsPerDelivery: (instanceCpu / window.deliveries) * 1e6,
      instanceCpuPerInstance: window.cpu.slice(0, n).map((c) => c / window.wall),
      redisCpuUsPerPublication: (redisCpu / window.publications) * 1e6,
      redisBusy: redisCpu / window.wall,
      loadBusy: loadCpu / window.wall,
      // Busy time of the 2 cores not accounted to us (other engineers' work): 0 = quiet, 1 = a whole core.
      foreignCores: Math.max(0, window.busy - ours) / window.wall,
    };
    log(
      `  ${kind.padEnd(8)} ${Math.round(result.perSecond).toLocaleString('en').padStart(8)} deliveries/s; instances ${result.instanceCpuUsPerDelivery.toFixed(2)} CPU-µs/delivery ` +
        `(busy ${result.instanceCpuPerInstance.map((b) => `${(b * 100).toFixed(0)}%`).join('/')} A/B/C); redis ${result.redisCpuUsPerPublication.toFixed(1)} CPU-µs/publication ` +
        `(busy ${(result.redisBusy * 100).toFixed(0)}%); load ${(result.loadBusy * 100).toFixed(0)}%; others on the machine ${(result.foreignCores * 100).toFixed(0)}% of a core`,
    );
    return result;
  } finally {
    await Promise.all(instances.map((s) => s.stop()));
    await redis.stop();
    setRedisUrl(null);
  }
}

if (only === undefined || only === 'redis') {
  log("Redis's own cost (redis-server 7.0 on core 1, redis-benchmark -c 50 on core 0; cluster: 3 masters on core 1, CPU of all three):");
  results.redis = [...(await redisOwnCost('single')), ...(await redisOwnCost('cluster'))];
}
if (only === undefined || only === 'deliveries') {
  log(
    `Deliveries across 3 Node instances (core 0), 420 subscribers on B and C, 6 channels, publisher on A (≤ ${inFlight} undelivered); Redis + load on core 1:`,
  );
  results.window = inFlight;
  results.deliveries = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const kind of rep % 2 === 0 ? ['single', 'cluster'] : ['cluster', 'single']) results.deliveries.push(await quietTrial(kind));
  }
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const spread = (values) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  for (const kind of ['single', 'cluster']) {
    const mine = results.deliveries.filter((r) => r.kind === kind);
    log(
      `  median ${kind.padEnd(8)} ${Math.round(median(mine.map((r) => r.perSecond))).toLocaleString('en')} deliveries/s ` +
        `(range ${Math.round(Math.min(...mine.map((r) => r.perSecond))).toLocaleString('en')}–${Math.round(Math.max(...mine.map((r) => r.perSecond))).toLocaleString('en')}), ` +
        `${median(mine.map((r) => r.instanceCpuUsPerDelivery)).toFixed(2)} instance CPU-µs/delivery (range ${spread(mine.map((r) => r.instanceCpuUsPerDelivery))}), ` +
        `${median(mine.map((r) => r.redisCpuUsPerPublication)).toFixed(1)} redis CPU-µs/publication`,
    );
  }
  // Each repetition ran one trial of each kind back to back: the ratio of a pair shares its neighbours.
  const pairs = [];
  for (let rep = 0; rep < reps; rep++) {
    const pair = results.deliveries.slice(2 * rep, 2 * rep + 2);
    const single = pair.find((r) => r.kind === 'single');
    const clustered = pair.find((r) => r.kind === 'cluster');
    pairs.push({
      rate: clustered.perSecond / single.perSecond,
      cpu: clustered.instanceCpuUsPerDelivery / single.instanceCpuUsPerDelivery,
      quiet: single.foreignCores <= NOISY && clustered.foreignCores <= NOISY,
    });
  }
  results.ratios = pairs;
  const show = (key) => pairs.map((r) => r[key].toFixed(2) + (r.quiet ? '' : '*')).join(', ');
  const quiet = pairs.filter((r) => r.quiet);
  const quietMedian = (key) =>
    quiet.length === 0 ? 'none quiet' : `${median(quiet.map((r) => r[key])).toFixed(2)}× over ${quiet.length} quiet`;
  log(
    `  cluster / one Redis, per pair (* = a trial stayed noisy): deliveries/s ${show('rate')} (median ${median(pairs.map((r) => r.rate)).toFixed(2)}×, ${quietMedian('rate')}); ` +
      `instance CPU per delivery ${show('cpu')} (median ${median(pairs.map((r) => r.cpu)).toFixed(2)}×, ${quietMedian('cpu')})`,
  );
}
results.loadavgAfter = loadavg();
log(`load average before ${results.loadavgBefore.one}, after ${results.loadavgAfter.one}`);
const dir = path.join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, `cluster-${results.startedAt.replaceAll(':', '-')}.json`), `${JSON.stringify(results, null, 2)}\n`);
