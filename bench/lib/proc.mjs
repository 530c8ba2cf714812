/* global process */
/**
 * Linux /proc readers: a process's CPU time (utime+stime, all threads), its RSS, per-core busy
 * time (to see who else ran on the server's core) and the load average.
 */
import { readdirSync, readFileSync } from 'node:fs';

const softirqPids = new Map();
/** pid of the core's ksoftirqd kernel thread (network receive work deferred from interrupts). */
function ksoftirqdPid(core) {
  if (!softirqPids.has(core)) {
    let found = null;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === `ksoftirqd/${core}`) found = Number(entry);
      } catch {
        // gone
      }
      if (found !== null) break;
    }
    softirqPids.set(core, found);
  }
  return softirqPids.get(core);
}

/** Clock ticks per second of /proc (CLK_TCK); 100 on every Linux this runs on. */
export const TICK = 100;

/** CPU seconds used so far by a process (all its threads), or NaN once it is gone. */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK; // utime, stime (fields 14, 15)
  } catch {
    return Number.NaN;
  }
}

/**
 * Nanoseconds a process's main thread (its event loop) has spent runnable but waiting for a CPU
 * (`/proc/<pid>/task/<pid>/schedstat`, field 2: exact, unlike the 10 ms ticks of /proc/stat),
 * or NaN once it is gone. A millisecond burst of another process on the core shows here.
 */
export function mainThreadWaitNs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes (VmRSS), or NaN. */
export function processRssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Busy and steal seconds of one core since boot, from /proc/stat. */
export function coreTimes(core) {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: (user + nice + system + irq + softirq) / TICK, task: (user + nice + system) / TICK, steal: steal / TICK };
}

export function loadavg() {
  const [one, five, fifteen, running] = readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/);
  return { one: Number(one), five: Number(five), fifteen: Number(fifteen), running };
}

/**
 * One measurement window on the server core: the server's own CPU, what everything else did on
 * that core (task time not the server's, i.e. other processes), and the hypervisor's steal.
 */
export function startWindow(pid, core, loadPid = null, loadCore = null) {
  // Several load processes (a load generator and the redis-server beside it) count as one.
  const loadCpuOf = () => [loadPid].flat().reduce((sum, p) => sum + processCpuSeconds(p), 0);
  const load0 = loadPid !== null ? { cpu: loadCpuOf(), core: coreTimes(loadCore) } : null;
  const t0 = process.hrtime.bigint();
  const cpu0 = processCpuSeconds(pid);
  const core0 = coreTimes(core);
  const softirqPid = ksoftirqdPid(core);
  const soft0 = softirqPid ? processCpuSeconds(softirqPid) : 0;
  return () => {
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = processCpuSeconds(pid) - cpu0;
    const core1 = coreTimes(core);
    // The core's softirq thread runs our own loopback traffic: not someone else's load.
    const soft = softirqPid ? processCpuSeconds(softirqPid) - soft0 : 0;
    const foreign = Math.max(0, core1.task - core0.task - cpu - soft);
    let loadForeign = null;
    let loadBusy = null;
    if (load0 !== null) {
      // Others on the load core slow the client: the server then idles (reported client-limited).
      const loadCpu = loadCpuOf() - load0.cpu;
      const lc = coreTimes(loadCore);
      loadBusy = loadCpu / wall;
      loadForeign = Math.max(0, lc.task - load0.core.task - loadCpu) / wall;
    }
    return {
      wallSeconds: wall,
      serverCpuSeconds: cpu,
      serverBusy: cpu / wall,
      foreignShare: foreign / wall,
      stealShare: (core1.steal - core0.steal) / wall,
      loadBusy,
      loadForeignShare: loadForeign,
      softirqShare: (Math.max(0, core1.busy - core1.task - (core0.busy - core0.task)) + soft) / wall,
    };
  };
}
