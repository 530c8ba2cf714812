/* global console, process */
/**
 * Reads what `bench/probe-trace.mjs` wrote and says, per phase, what the probe's slowest 1 %
 * overlapped: a GC of the server or the holder, and (with TRACE_PERF's files) which threads other
 * than the server's event loop ran on the server core, and other than the probe on the load core,
 * against how often they overlapped any sample.
 *
 *   node bench/probe-trace-report.mjs /tmp/probe-trace-<server>-<time>.json
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const d = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const SWITCH = /\[(\d+)\]\s+([\d.]+): sched:sched_switch: prev_comm=(.*?) prev_pid=(\d+) .*?==> next_comm=(.*?) next_pid=(\d+)/;

/** Per core, the [start, end, tid, comm] runs of every thread, in epoch ms. */
function runsOf(file) {
  const runs = { 0: [], 1: [] };
  const current = {};
  for (const line of execFileSync('perf', ['script', '-i', file], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .split('\n')) {
    const m = SWITCH.exec(line);
    const core = Number(m?.[1]);
    if (m === null || !(core in runs)) continue;
    const t = Number(m[2]) * 1000 + d.epochMinusMonoMs;
    if (current[core]) runs[core].push([current[core][0], t, current[core][1], current[core][2]]);
    current[core] = [t, m[6], m[5]];
  }
  return runs;
}

/** Who ran on `core` during [a, b], other than `mine` and the idle task: label → ms. */
function who(runs, core, a, b, mine) {
  const out = new Map();
  for (const [s, e, tid, comm] of runs[core]) {
    if (e <= a || s >= b || tid === '0' || tid === mine) continue;
    const label = d.threadNames[tid] ?? `other:${comm.replace(/\/\d+$/, '')}`;
    out.set(label, (out.get(label) ?? 0) + Math.min(b, e) - Math.max(a, s));
  }
  return out;
}

for (const phase of d.phases) {
  const samples = phase.trace;
  const sorted = samples.map(([, r]) => r).sort((a, b) => a - b);
  const p99 = sorted[Math.floor(0.99 * sorted.length)];
  const slow = samples.filter(([, r]) => r >= p99);
  const gcOverlap = (list) =>
    list.filter(([t, r]) => d.events.some((e) => e.type === 'gc' && e.src === 'server' && e.t <= t + r && e.t + e.ms >= t)).length /
    list.length;
  console.log(
    `== ${phase.label}: ${samples.length} samples, p50 ${sorted[Math.floor(sorted.length / 2)].toFixed(3)} p99 ${p99.toFixed(3)} ms; ` +
      `a server GC overlapped ${(gcOverlap(slow) * 100).toFixed(0)} % of the slowest 1 % (${(gcOverlap(samples) * 100).toFixed(1)} % of all)`,
  );
  const file = `/tmp/probe-trace-${d.name}-${phase.label}.perf`;
  if (!existsSync(file)) continue;
  const runs = runsOf(file);
  for (const [core, mine, what] of [
    [0, String(d.serverPid), "the server's event loop"],
    [1, String(phase.probePid), 'the probe'],
  ]) {
    const inSlow = new Map();
    const msSlow = new Map();
    for (const [t, r] of slow)
      for (const [k, ms] of who(runs, core, t, t + r, mine)) {
        inSlow.set(k, (inSlow.get(k) ?? 0) + 1);
        msSlow.set(k, (msSlow.get(k) ?? 0) + ms);
      }
    const inAll = new Map();
    for (const [t, r] of samples) for (const k of who(runs, core, t, t + r, mine).keys()) inAll.set(k, (inAll.get(k) ?? 0) + 1);
    const top = [...inSlow].sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(
      `  core ${core}, besides ${what}: ` +
        top
          .map(
            ([k, n]) =>
              `${k} in ${((n / slow.length) * 100).toFixed(0)} % (${(msSlow.get(k) / n).toFixed(2)} ms each; ${(((inAll.get(k) ?? 0) / samples.length) * 100).toFixed(1)} % of all)`,
          )
          .join(', '),
    );
  }
}
