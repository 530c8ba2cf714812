/* global clearTimeout, process, setTimeout */
/**
 * One trial: a fresh server on the server core, one load generator on the load core, the
 * server's CPU read from /proc between the load's "measure-start" and "measure-end" lines.
 * A trial during which other processes used more than NOISE.foreign of the server core or
 * NOISE.loadForeign of the load core (or the hypervisor stole more than NOISE.steal) is discarded
 * and run again (up to NOISE.retries times).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { coreTimes, loadavg, startWindow } from './proc.mjs';
import { bin, root, startServer } from './servers.mjs';

export const SERVER_CORE = 0;
export const LOAD_CORE = 1;
export const NOISE = { foreign: 0.1, loadForeign: 0.2, steal: 0.05, retries: 2 };
/** Quick (smoke) runs keep a noisy trial (flagged) instead of re-running it: they must stay under a minute. */
export const setRetries = (n) => (NOISE.retries = n);
/** Below this share of the server core, the trial was limited by the client: reported as "≥". */
export const SATURATED = 0.9;

/** Runs a load script (Bun unless `runtime: 'node'`) pinned to the load core; calls onLine for each JSON line. */
export function runLoad(script, params, { runtime = 'bun', onLine = () => {}, timeoutMs = 120_000, stdin = 'ignore' } = {}) {
  const command = runtime === 'node' ? process.execPath : bin('bun');
  const child = spawn('taskset', ['-c', String(LOAD_CORE), command, path.join(root, 'bench/load', script), JSON.stringify(params)], {
    cwd: root,
    stdio: [stdin, 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  let partial = '';
  const lines = [];
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    for (const line of parts) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line);
      lines.push(entry);
      onLine(entry, child);
    }
  });
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(lines);
      else reject(new Error(`${script} exited with ${code}\n${stderr}`));
    });
  });
  return { child, done };
}

export const serverDescriptor = (s) => ({ origin: s.origin, wsUrl: s.wsUrl, kind: s.kind, ...s.load });

/** One measured trial with the noise check and retries. Returns the load's result plus CPU figures. */
export async function trial(serverName, script, params, { log = () => {}, loadPids = [] } = {}) {
  for (let attempt = 0; ; attempt++) {
    const before = loadavg();
    const server = await startServer(serverName, { core: SERVER_CORE });
    let close;
    let measured;
    let backendAt;
    let backendEnd;
    try {
      const { child, done } = runLoad(
        script,
        { ...params, server: serverDescriptor(server) },
        {
          timeoutMs: (params.warmupMs ?? 0) + (params.measureMs ?? 0) + 90_000,
          onLine: (entry) => {
            if (entry.phase === 'measure-start') {
              const ours = server.backendPid === null ? [] : [server.backendPid];
              close = startWindow(server.pid, SERVER_CORE, [child.pid, ...loadPids, ...ours], LOAD_CORE);
              backendAt = server.backendCpu();
            }
            if (entry.phase === 'measure-end') {
              measured = { ...entry, ...close() };
              backendEnd = server.backendCpu();
            }
          },
        },
      );
      await done;
      // A backend (the rpc hook's): its CPU and calls over the same window.
      const [a, b] = await Promise.all([backendAt, backendEnd]);
      if (a && b && measured) measured = { ...measured, backendCalls: b.calls - a.calls, backendCpuSeconds: (b.cpuUs - a.cpuUs) / 1e6 };
    } finally {
      await server.stop();
    }
    if (measured === undefined) throw new Error(`${serverName}/${script}: no measurement`);
    const noisy =
      measured.foreignShare > NOISE.foreign || measured.stealShare > NOISE.steal || (measured.loadForeignShare ?? 0) > NOISE.loadForeign;
    const result = {
      server: serverName,
      attempt,
      loadavgBefore: before,
      clientLimited: measured.serverBusy < SATURATED,
      noisy,
      ...measured,
    };
    delete result.phase;
    if (!noisy) return result;
    log(
      `  discarded noisy trial ${serverName} (others used ${(measured.foreignShare * 100).toFixed(0)}% of the server core, ${((measured.loadForeignShare ?? 0) * 100).toFixed(0)}% of the load core; steal ${(measured.stealShare * 100).toFixed(0)}%)`,
    );
    if (attempt >= NOISE.retries) return { ...result, discarded: true };
  }
}

/** Idle share of the server core over `ms` with nothing of ours running: recorded per run. */
export async function quietCheck(ms = 1000) {
  const a = coreTimes(SERVER_CORE);
  await new Promise((r) => setTimeout(r, ms));
  const b = coreTimes(SERVER_CORE);
  return { busyShare: (b.busy - a.busy) / (ms / 1000), loadavg: loadavg() };
}
