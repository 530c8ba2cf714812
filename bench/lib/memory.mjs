/* global performance, setTimeout */
/**
 * Scenario 4: memory per idle authenticated connection, and the probe's echo p99 with 19k idle
 * sockets. One server process per runtime: RSS after a forced GC (through the preloaded hook)
 * with no sockets, then at each step of idle sockets (held by a Node process from 127.0.0.2–9,
 * heartbeats at their defaults); the light probe (one echo per 5 ms) runs on the idle server
 * and again once the last step is reached, for long enough to cover the heartbeat rounds.
 * Both probe windows are measured alike (same warm-up and length, so the same number of samples
 * decides each p99) and each gets the trials' noise check: a window in which other processes
 * used the server or the load core is measured again (bench/probe-trace.mjs showed why).
 */
import { mainThreadWaitNs, processRssBytes, startWindow } from './proc.mjs';
import { startServer } from './servers.mjs';
import { LOAD_CORE, NOISE, runLoad, SERVER_CORE, serverDescriptor } from './trial.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The loaded probe meets a server warmed by 19k connects; the idle one must not meet a cold echo path. */
const PROBE_WARMUP_MS = 2000;

/**
 * A latency window is spoilt by far less than a throughput one: with ~10,000 samples its p99 is
 * the ~100th-worst, and a few hundred 1 ms bursts of other processes on either core decide it
 * (bench/probe-trace.mjs: in the quiet windows most of the slowest 1 % overlapped one), yet they
 * are below the 10 ms ticks `startWindow` counts in. So the window also reads how long the
 * server's event loop and the probe were runnable but waited for their core (exact, from
 * schedstat): the quiet windows traced measured 0.1–0.6 % (server) and 0.5–1.3 % (probe, which
 * shares its core with the holder and the tracer), the busy ones 1.7–6.4 %.
 */
const PROBE_WAIT_LIMIT = { server: 0.01, probe: 0.015 };

/**
 * One probe window, with the noise check of `trial()` and the run-queue waits above: the probe
 * and `loadPids` (the holder) are ours; anything else on either core during the window makes it
 * noisy, and it is measured again (up to NOISE.retries times; the last one is kept, flagged
 * `discarded`).
 */
async function probe(server, measureMs, { loadPids = [], log, label }) {
  for (let attempt = 0; ; attempt++) {
    let close;
    let window;
    let waits;
    const { child, done } = runLoad(
      'rtt.mjs',
      { server: serverDescriptor(server), connections: 1, intervalMs: 5, warmupMs: PROBE_WARMUP_MS, measureMs },
      {
        timeoutMs: measureMs + 30_000,
        onLine: (entry) => {
          if (entry.phase === 'measure-start') {
            close = startWindow(server.pid, SERVER_CORE, [child.pid, ...loadPids], LOAD_CORE);
            waits = { at: performance.now(), server: mainThreadWaitNs(server.pid), probe: mainThreadWaitNs(child.pid) };
          }
          if (entry.phase === 'measure-end') {
            window = close();
            const ms = performance.now() - waits.at;
            waits = {
              server: (mainThreadWaitNs(server.pid) - waits.server) / 1e6 / ms,
              probe: (mainThreadWaitNs(child.pid) - waits.probe) / 1e6 / ms,
            };
          }
        },
      },
    );
    const end = (await done).find((l) => l.phase === 'measure-end');
    const noisy =
      window.foreignShare > NOISE.foreign ||
      window.stealShare > NOISE.steal ||
      (window.loadForeignShare ?? 0) > NOISE.loadForeign ||
      !(waits.server <= PROBE_WAIT_LIMIT.server) ||
      !(waits.probe <= PROBE_WAIT_LIMIT.probe);
    const result = {
      p50Us: end.p50Us,
      p99Us: end.p99Us,
      maxUs: end.maxUs,
      samples: end.samples,
      attempt,
      noisy,
      foreignShare: window.foreignShare,
      loadForeignShare: window.loadForeignShare,
      stealShare: window.stealShare,
      serverWaitShare: waits.server,
      probeWaitShare: waits.probe,
    };
    if (!noisy) return result;
    log(
      `  discarded noisy probe window (${label}: others used ${(window.foreignShare * 100).toFixed(0)}% of the server core, ${((window.loadForeignShare ?? 0) * 100).toFixed(0)}% of the load core; the server's loop waited for its core ${(waits.server * 100).toFixed(2)}% of the window, the probe ${(waits.probe * 100).toFixed(2)}%)`,
    );
    if (attempt >= NOISE.retries) return { ...result, discarded: true };
  }
}

export async function memoryAt(server, settleMs) {
  await sleep(settleMs);
  const gc = await server.gc();
  await sleep(200);
  return { rss: processRssBytes(server.pid), heapUsed: gc?.heapUsed ?? null, gcMs: gc?.ms ?? null, forcedGc: gc !== null };
}

export async function memoryTrial(serverName, { steps, settleMs, probeIdleMs, probeLoadedMs, log }) {
  const server = await startServer(serverName, { core: SERVER_CORE });
  const points = [];
  let probes = null;
  try {
    const base = await memoryAt(server, settleMs);
    points.push({ connections: 0, ...base });
    const withProbe = probeLoadedMs > 0;
    const idleProbe = withProbe ? await probe(server, probeIdleMs, { log, label: 'idle' }) : null;
    const { child, done } = runLoad(
      'idle-holder.mjs',
      { server: serverDescriptor(server), steps },
      {
        runtime: 'node',
        stdin: 'pipe',
        timeoutMs: 600_000,
        onLine: (entry) => stepReached(entry),
      },
    );
    let stepReached;
    let failed;
    done.catch((e) => (failed = e));
    for (const target of steps) {
      const entry = await Promise.race([
        new Promise((resolve) => (stepReached = resolve)),
        done.then(() => {
          throw new Error('idle holder ended early');
        }),
      ]);
      const mem = await memoryAt(server, settleMs);
      const point = {
        connections: entry.count,
        target,
        dropped: entry.dropped,
        ...mem,
        perConnectionBytes: (mem.rss - base.rss) / entry.count,
      };
      if (base.heapUsed !== null && mem.heapUsed !== null) point.heapPerConnectionBytes = (mem.heapUsed - base.heapUsed) / entry.count;
      points.push(point);
      log(
        `  ${serverName}: ${entry.count} idle sockets → ${(point.perConnectionBytes / 1024).toFixed(2)} KiB RSS each${entry.dropped ? ` (${entry.dropped} dropped)` : ''}`,
      );
      if (target === steps.at(-1) && withProbe) {
        const loaded = await probe(server, probeLoadedMs, { loadPids: [child.pid], log, label: `${entry.count} idle sockets` });
        probes = {
          idle: idleProbe,
          loaded,
          connections: entry.count,
          p99Ratio: loaded.p99Us / idleProbe.p99Us,
          noisy: Boolean(idleProbe.discarded || loaded.discarded),
        };
        log(
          `  ${serverName}: probe p99 idle ${(idleProbe.p99Us / 1000).toFixed(2)} ms, with ${entry.count} idle sockets ${(loaded.p99Us / 1000).toFixed(2)} ms (×${probes.p99Ratio.toFixed(2)})${probes.noisy ? ', noisy' : ''}`,
        );
      }
      child.stdin.write('next\n');
    }
    await done.catch(() => {});
    if (failed && points.length < steps.length + 1) throw failed;
  } finally {
    await server.stop();
  }
  return { server: serverName, loadCore: LOAD_CORE, points, probes };
}
