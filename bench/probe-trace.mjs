/* global console, process, performance, setInterval, clearInterval, setTimeout */
/**
 * Diagnosis of scenario 4's 19k probe (issue 17): where its tail comes from. One server on the
 * server core with bench/lib/trace-hook.mjs preloaded (GC events on Node, event-loop stalls with
 * TRACE_STALL_MS), the light probe (`rtt.mjs`, one echo per 5 ms, every sample time-stamped) and
 * the idle holder (Node, its GC traced too) on the load core, and /proc/<pid>/task/<tid>/schedstat of
 * all three read every 5 ms (CPU run time and run-queue wait, in ns). Phases: the probe on the idle
 * server; then with N idle sockets held, twice in turn: the holder at normal priority, and at
 * SCHED_IDLE (`chrt --idle`: any normal task that wakes on the load core preempts it).
 *
 *   node bench/probe-trace.mjs product-node|product-bun [sockets=19000] [phaseMs=20000]
 *   (TRACE_PERF=1: also every context switch, via `perf record`; TRACE_NODE_FLAGS: flags for a Node server)
 *
 * Writes /tmp/probe-trace-<server>-<time>.json and prints per-phase tails and what the slow
 * samples overlapped. Not part of `npm run bench`; wrap it in `flock /tmp/bench.lock`.
 */
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { root, startServer } from './lib/servers.mjs';
import { LOAD_CORE, runLoad, SERVER_CORE, serverDescriptor } from './lib/trial.mjs';
import { startWindow } from './lib/proc.mjs';

const [name = 'product-node', socketsArg = '19000', phaseArg = '20000'] = process.argv.slice(2);
const sockets = Number(socketsArg);
const phaseMs = Number(phaseArg);
const hook = path.join(root, 'bench/lib/trace-hook.mjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  execFileSync('taskset', ['-a', '-cp', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
} catch {
  // no taskset
}

const events = [];
/** Bun: JSC's own GC log (BUN_JSC_logGC=1), one line per cycle ending "p=<longest pause>ms …, cycle <ms>ms END]", stamped on arrival. */
const collect = (src) => (line) => {
  const cycle = line.startsWith('[GC<') ? /p=([\d.]+)ms \(max [\d.]+\)(?:, | )?.*cycle ([\d.]+)ms END\]/.exec(line) : null;
  if (cycle !== null) {
    const ms = Number(cycle[2]);
    events.push({ src, type: 'gc', t: performance.timeOrigin + performance.now() - ms, ms, kind: 'jsc', pauseMs: Number(cycle[1]) });
  }
  if (!line.startsWith('{"msg":"trace.')) return;
  const e = JSON.parse(line);
  events.push({ src, type: e.msg.slice(6), t: e.t, ms: e.ms, kind: e.kind });
};

if (name.endsWith('-bun')) process.env.BUN_JSC_logGC = '1';
const server = await startServer(name, {
  core: SERVER_CORE,
  // TRACE_NODE_FLAGS: V8/Node flags a user could set (e.g. --min-semi-space-size=16), for experiments.
  extraArgs: name.endsWith('-bun')
    ? ['--preload', hook]
    : [...(process.env.TRACE_NODE_FLAGS ?? '').split(' ').filter(Boolean), '--import', hook],
  onLine: collect('server'),
});

// schedstat sampler, per pid: [t, run ns of all its threads, run-queue wait ns of all its threads,
// run-queue wait ns of its main thread (the event loop, the one that answers the probe)].
const watched = new Map(); // label → { pid, rows }
const readSched = (pid) => {
  let run = 0;
  let wait = 0;
  let mainWait = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [r, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      run += Number(r);
      wait += Number(w);
      if (tid === String(pid)) mainWait = Number(w);
    } catch {
      // thread gone
    }
  }
  return [run, wait, mainWait];
};
const watch = (label, pid) => watched.set(label, { pid, rows: [] });
const sampler = setInterval(() => {
  const t = performance.timeOrigin + performance.now();
  for (const w of watched.values()) {
    try {
      w.rows.push([t, ...readSched(w.pid)]);
    } catch {
      // process gone
    }
  }
}, 5);
watch('server', server.pid);

const phases = [];
/** epoch ms − CLOCK_MONOTONIC ms: perf's timestamps (`-k CLOCK_MONOTONIC`) onto the probe's clock. */
const epochMinusMonoMs = performance.timeOrigin + performance.now() - Number(process.hrtime.bigint()) / 1e6;
const threadNames = {};
const nameThreads = (label, pid) => {
  for (const tid of readdirSync(`/proc/${pid}/task`))
    threadNames[tid] = `${label}:${readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()}`;
};

async function probePhase(label, pids) {
  // TRACE_PERF=1: every context switch on both cores during the phase (perf sched tracepoints).
  const perf = process.env.TRACE_PERF
    ? spawn(
        'perf',
        ['record', '-q', '-k', 'CLOCK_MONOTONIC', '-e', 'sched:sched_switch', '-a', '-o', `/tmp/probe-trace-${name}-${label}.perf`],
        { stdio: 'ignore' },
      )
    : null;
  if (perf) await sleep(500);
  const { child, done } = runLoad(
    'rtt.mjs',
    { server: serverDescriptor(server), connections: 1, intervalMs: 5, warmupMs: 1000, measureMs: phaseMs, trace: true },
    {
      timeoutMs: phaseMs + 30_000,
      onLine: (e) => {
        if (e.phase === 'measure-start') close = startWindow(server.pid, SERVER_CORE, [child.pid, ...pids], LOAD_CORE);
        if (e.phase === 'measure-end') noise = close();
      },
    },
  );
  let close;
  let noise;
  watch(`probe:${label}`, child.pid);
  const end = (await done).find((l) => l.phase === 'measure-end');
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.on('exit', r));
  }
  nameThreads('server', server.pid);
  nameThreads('tracer', process.pid);
  for (const pid of pids) nameThreads('holder', pid);
  phases.push({
    label,
    probePid: child.pid,
    p50Us: end.p50Us,
    p99Us: end.p99Us,
    maxUs: end.maxUs,
    samples: end.samples,
    trace: end.trace,
    noise,
  });
  console.log(
    `${label}: ${end.samples} samples, p50 ${(end.p50Us / 1000).toFixed(3)} p99 ${(end.p99Us / 1000).toFixed(3)} max ${(end.maxUs / 1000).toFixed(1)} ms; server busy ${(noise.serverBusy * 100).toFixed(1)}%, others on server core ${(noise.foreignShare * 100).toFixed(1)}%, load core ours ${(noise.loadBusy * 100).toFixed(1)}% others ${(noise.loadForeignShare * 100).toFixed(1)}%`,
  );
}

try {
  await sleep(3000);
  await server.gc();
  await sleep(200);
  await probePhase('idle', []);

  const holder = spawn(
    'taskset',
    [
      '-c',
      String(LOAD_CORE),
      process.execPath,
      '--import',
      hook,
      path.join(root, 'bench/load/idle-holder.mjs'),
      JSON.stringify({ server: serverDescriptor(server), steps: [sockets] }),
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let partial = '';
  let reached;
  const stepped = new Promise((r) => (reached = r));
  holder.stdout.setEncoding('utf8').on('data', (c) => {
    const parts = (partial + c).split('\n');
    partial = parts.pop();
    for (const l of parts) if (l.includes('"step"')) reached(JSON.parse(l));
  });
  let errPartial = '';
  holder.stderr.setEncoding('utf8').on('data', (c) => {
    const parts = (errPartial + c).split('\n');
    errPartial = parts.pop();
    for (const l of parts) collect('holder')(l);
  });
  const openedAt = Date.now();
  const step = await stepped;
  console.log(`holder: ${step.count} sockets in ${((Date.now() - openedAt) / 1000).toFixed(1)} s`);
  watch('holder', holder.pid);
  await sleep(3000);
  await server.gc();
  await sleep(200);
  // Alternated, so that a drift of the machine's load does not read as the holder's priority.
  for (const round of [1, 2]) {
    execFileSync('chrt', ['--other', '-a', '-p', '0', String(holder.pid)]);
    await probePhase(`loaded-${round}`, [holder.pid]);
    execFileSync('chrt', ['--idle', '-a', '-p', '0', String(holder.pid)]);
    await probePhase(`loaded-holder-sched-idle-${round}`, [holder.pid]);
  }
  holder.stdin.write('next\n');
  await new Promise((r) => holder.on('exit', r));
} finally {
  clearInterval(sampler);
  await server.stop();
}

const out = `/tmp/probe-trace-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(
  out,
  JSON.stringify({
    name,
    sockets,
    phaseMs,
    epochMinusMonoMs,
    threadNames,
    serverPid: server.pid,
    phases,
    events,
    sched: Object.fromEntries([...watched].map(([k, v]) => [k, v.rows])),
  }),
);
console.log(`wrote ${out}`);
