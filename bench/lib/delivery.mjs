/* global */
/**
 * The delivery scenarios of issue 14 that need their own harness:
 * - recovery storm: one server on Redis; N subscribers of one channel get 100 publications live
 *   (server CPU per live delivery), then as many fresh sockets resubscribe at once with `since` 100
 *   publications back (server CPU per recovered publication, time until every client is recovered);
 * - memory per idle authenticated socket with one subscription vs none: N idle sockets, RSS after a
 *   forced GC, then each subscribes to one channel (history and presence on), RSS again.
 */
import { memoryAt } from './memory.mjs';
import { startWindow } from './proc.mjs';
import { startBenchRedis } from './redis.mjs';
import { setRedisUrl, startServer } from './servers.mjs';
import { LOAD_CORE, runLoad, SERVER_CORE, serverDescriptor } from './trial.mjs';

export async function recoveryTrial({ subscribers, missed, log }) {
  const redis = await startBenchRedis(LOAD_CORE);
  setRedisUrl(redis.url);
  const server = await startServer('redis-history', { core: SERVER_CORE });
  const windows = {};
  let open = null;
  try {
    const { done } = runLoad(
      'recovery.mjs',
      { server: serverDescriptor(server), subscribers, missed },
      {
        timeoutMs: 600_000,
        onLine: (entry, child) => {
          if (entry.phase === 'measure-start') open = startWindow(server.pid, SERVER_CORE, [child.pid, redis.pid], LOAD_CORE);
          if (entry.phase === 'measure-end') windows[entry.window] = { ...entry, ...open() };
        },
      },
    );
    await done;
  } finally {
    await server.stop();
    await redis.stop();
    setRedisUrl(null);
  }
  const { live, storm } = windows;
  const cpuPerLive = live.serverCpuSeconds / live.deliveries;
  const cpuPerRecovered = storm.serverCpuSeconds / storm.publications;
  const result = {
    subscribers,
    missed,
    live,
    storm,
    cpuPerLiveDeliveryUs: cpuPerLive * 1e6,
    cpuPerRecoveredPublicationUs: cpuPerRecovered * 1e6,
    ratio: cpuPerRecovered / cpuPerLive,
  };
  log(
    `  ${storm.recovered}/${subscribers} recovered (${storm.publications} publications, each client ${missed}) in ${storm.ms.toFixed(0)} ms; ` +
      `server CPU ${result.cpuPerRecoveredPublicationUs.toFixed(2)} µs per recovered publication vs ${result.cpuPerLiveDeliveryUs.toFixed(2)} µs per live delivery (×${result.ratio.toFixed(2)})`,
  );
  return result;
}

export async function subscriptionMemoryTrial(serverName, { sockets, settleMs, log }) {
  const server = await startServer(serverName, { core: SERVER_CORE });
  const points = {};
  try {
    points.base = await memoryAt(server, settleMs);
    let reached;
    const { child, done } = runLoad(
      'idle-holder.mjs',
      { server: serverDescriptor(server), steps: [sockets], subscribe: 'chat:idle' },
      { runtime: 'node', stdin: 'pipe', timeoutMs: 600_000, onLine: (entry) => reached?.(entry) },
    );
    let failed;
    done.catch((e) => (failed = e));
    const next = () =>
      Promise.race([
        new Promise((resolve) => (reached = resolve)),
        done.then(() => {
          throw failed ?? new Error('idle holder ended early');
        }),
      ]);
    const idle = await next();
    points.idle = { ...(await memoryAt(server, settleMs)), count: idle.count };
    child.stdin.write('next\n');
    const subscribed = await next();
    points.subscribed = { ...(await memoryAt(server, settleMs)), count: subscribed.count };
    child.stdin.write('next\n');
    await done.catch(() => {});
  } finally {
    await server.stop();
  }
  const n = points.subscribed.count;
  const result = {
    server: serverName,
    sockets: n,
    perSocketBytes: (points.idle.rss - points.base.rss) / points.idle.count,
    perSubscriptionBytes: (points.subscribed.rss - points.idle.rss) / n,
    heapPerSubscriptionBytes:
      points.subscribed.heapUsed !== null && points.idle.heapUsed !== null ? (points.subscribed.heapUsed - points.idle.heapUsed) / n : null,
    points,
  };
  log(
    `  ${n} idle sockets: ${(result.perSocketBytes / 1024).toFixed(2)} KiB RSS each; one subscription each adds ${(result.perSubscriptionBytes / 1024).toFixed(2)} KiB RSS` +
      (result.heapPerSubscriptionBytes !== null ? ` (heap ${(result.heapPerSubscriptionBytes / 1024).toFixed(2)} KiB)` : ''),
  );
  return result;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The issue's targets for these scenarios, in the shape of run.mjs's targets. */
export function deliveryTargets(recovery, subscriptionMemory) {
  const targets = [];
  if (recovery) {
    const ok = recovery.filter((r) => !r.error);
    const all = ok.every((r) => r.storm.recovered === r.subscribers && r.storm.publications === r.subscribers * r.missed);
    const ratio = median(ok.map((r) => r.ratio));
    targets.push({
      name: `recovery storm: every client recovered, server CPU per recovered publication ≤ 2× per live delivery`,
      met: ok.length === 0 ? null : all && ratio <= 2,
      display:
        ok.length === 0
          ? `not measured: ${recovery[0]?.error?.split('\n')[0] ?? 'no data'}`
          : `×${ratio.toFixed(2)} (n=${ok.length}); ${ok.map((r) => `${r.storm.recovered}/${r.subscribers} recovered in ${(r.storm.ms / 1000).toFixed(2)} s`).join(', ')}; ` +
            `${median(ok.map((r) => r.cpuPerRecoveredPublicationUs)).toFixed(2)} µs vs ${median(ok.map((r) => r.cpuPerLiveDeliveryUs)).toFixed(2)} µs`,
    });
  }
  if (subscriptionMemory) {
    const ok = subscriptionMemory.filter((r) => !r.error);
    const growth = median(ok.map((r) => r.perSubscriptionBytes));
    targets.push({
      name: 'memory per idle authenticated socket: one subscription adds ≤ 1 KiB',
      met: ok.length === 0 ? null : growth <= 1024,
      display:
        ok.length === 0
          ? `not measured: ${subscriptionMemory[0]?.error?.split('\n')[0] ?? 'no data'}`
          : `${(growth / 1024).toFixed(2)} KiB RSS per subscription at ${ok[0].sockets} sockets (n=${ok.length}; a socket without one: ${(median(ok.map((r) => r.perSocketBytes)) / 1024).toFixed(2)} KiB)`,
    });
  }
  return targets;
}
