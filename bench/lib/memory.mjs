/* global setTimeout */
/**
 * Scenario 4: memory per idle authenticated connection, and the probe's echo p99 with 19k idle
 * sockets. One server process per runtime: RSS after a forced GC (through the preloaded hook)
 * with no sockets, then at each step of idle sockets (held by a Node process from 127.0.0.2–9,
 * heartbeats at their defaults); the light probe (one echo per 5 ms) runs on the idle server
 * and again once the last step is reached, for long enough to cover the heartbeat rounds.
 */
import { processRssBytes } from './proc.mjs';
import { startServer } from './servers.mjs';
import { LOAD_CORE, runLoad, SERVER_CORE, serverDescriptor } from './trial.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function probe(server, measureMs) {
  const lines = await runLoad(
    'rtt.mjs',
    { server: serverDescriptor(server), connections: 1, intervalMs: 5, warmupMs: 300, measureMs },
    { timeoutMs: measureMs + 30_000 },
  ).done;
  const end = lines.find((l) => l.phase === 'measure-end');
  return { p50Us: end.p50Us, p99Us: end.p99Us, maxUs: end.maxUs, samples: end.samples };
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
    const idleProbe = withProbe ? await probe(server, probeIdleMs) : null;
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
        const loaded = await probe(server, probeLoadedMs);
        probes = { idle: idleProbe, loaded, connections: entry.count, p99Ratio: loaded.p99Us / idleProbe.p99Us };
        log(
          `  ${serverName}: probe p99 idle ${(idleProbe.p99Us / 1000).toFixed(2)} ms, with ${entry.count} idle sockets ${(loaded.p99Us / 1000).toFixed(2)} ms (×${probes.p99Ratio.toFixed(2)})`,
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
