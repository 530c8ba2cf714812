/* global console, process */
/**
 * `npm run bench:capacity [-- <full-run.json>]`: the capacity model of docs/scaling.md, computed
 * from measurements only — a full `npm run bench` run (newest full-mode file in bench/results/
 * unless named), bench/results/redis-ops.json (`npm run bench:redis-ops`) and, when present,
 * the newest bench/results/cluster-*.json (`npm run bench:cluster`). Rewrites the section of docs/scaling.md
 * between its capacity markers, so every figure there traces back to a file here.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './lib/servers.mjs';

const results = path.join(root, 'bench/results');
const named = process.argv[2];
const fullRuns = readdirSync(results)
  .filter((f) => /^\d{4}-.*\.json$/.test(f))
  .sort()
  .map((f) => path.join(results, f))
  .filter((f) => JSON.parse(readFileSync(f, 'utf8')).mode === 'full');
const runFile = named ?? fullRuns.at(-1);
if (runFile === undefined) throw new Error('no full bench run in bench/results (npm run bench)');
const run = JSON.parse(readFileSync(runFile, 'utf8'));
const redisOps = JSON.parse(readFileSync(path.join(results, 'redis-ops.json'), 'utf8'));
// The newest `npm run bench:cluster` run, if any: Redis's cost per pub/sub op and the cluster's
// deliveries vs one Redis.
const clusterFile = readdirSync(results)
  .filter((f) => /^cluster-.*\.json$/.test(f))
  .sort()
  .at(-1);
const cluster = clusterFile === undefined ? null : JSON.parse(readFileSync(path.join(results, clusterFile), 'utf8'));

/** The message mix the table assumes, per connected user (docs/scaling.md names each). */
const MIX = {
  connectionLifetimeS: 3600, // one reconnect an hour: network changes, deploys, laptops waking
  groupChannels: 2, // besides the personal channel user:{sub}
  groupSize: 20, // subscribers per group channel (history 100/5m, recovery, presence on)
  publishIntervalS: 120, // a user publishes to one of its groups every 2 minutes
  backendIntervalS: 600, // the backend sends each user one personal message every 10 minutes
  presenceQueriesPerConnect: 2, // one presence read per group channel on (re)connect
  missedPerResubscribe: 5, // publications recovered per group channel on a reconnect
  cpuUtilisation: 0.5, // instances and Redis shards sized to run at half a core
};

const fail = (what) => {
  throw new Error(`${runFile}: ${what} missing (a full run measures it)`);
};
const median = (stat, what) => stat?.median ?? fail(what);
const perServer = (id, server, figure) => median(run.scenarios.find((s) => s.id === id)?.perServer?.[server]?.[figure], `${id} ${server}`);
/** The memory scenario's points for a server: 0 sockets first, the most sockets last. */
const memoryPoints = (server) => run.memory?.find((m) => m.server === server)?.points ?? fail(`memory ${server}`);
const firstOk = (list, what) => list?.find((r) => !r.error) ?? fail(what);

const RUNTIMES = { node: 'product-node', bun: 'product-bun' };
const measured = {};
for (const [runtime, server] of Object.entries(RUNTIMES)) {
  const points = memoryPoints(server);
  const memory = points.at(-1);
  measured[runtime] = {
    connectCpuS: 1 / perServer('connect', server, 'perCpuSecond'),
    messageCpuS: 1 / perServer('echo', server, 'perCpuSecond'),
    deliveryCpuS: 1 / perServer('fanout', server, 'perCpuSecond'),
    socketBytes: memory.perConnectionBytes,
    socketsMeasured: memory.connections,
    baseRssBytes: points[0].rss,
  };
}
// Measured on Node only (the delivery scenarios run the Node product on Redis); used for both.
const recovery = firstOk(run.recovery, 'recovery');
const subscriptionBytes = firstOk(run.subscriptionMemory, 'subscriptionMemory').perSubscriptionBytes;
const recoveredCpuS = recovery.cpuPerRecoveredPublicationUs / 1e6;
/** The most idle sockets one process was measured with: no instance is planned with more. */
const maxSocketsPerInstance = Math.min(...Object.values(measured).map((m) => m.socketsMeasured));

const ops = redisOps.actions;
const redisCpuS = (action) => (ops[action]?.redisCpuMicros ?? fail(`redis-ops ${action}`)) / 1e6;
/** Redis CPU per pipelined op of a bench:cluster row (pipelined: Redis's own cost, not the round trip's). */
const clusterRow = (kind, name) => cluster?.redis?.find((r) => r.kind === kind && r.name === name && r.pipeline === 16)?.redisCpuUsPerOp;
const publishNone = clusterRow('single', 'PUBLISH, no subscriber');
const publishThree = clusterRow('single', 'PUBLISH, 3 subscribers');
/** Redis CPU per further instance a publication is delivered to: (PUBLISH to 3 subscribers − to none) ÷ 3. */
const perNotifiedInstanceS = publishNone !== undefined && publishThree !== undefined ? (publishThree - publishNone) / 3 / 1e6 : null;
const appendSingle = clusterRow('single', 'EVALSHA append (history 100, 3 subscribers)');
const appendCluster = clusterRow('cluster', 'EVALSHA append #!lua (history 100, 3 subs)');
/** The cluster form of the append script costs this much more per publication than one Redis's. */
const clusterAppendFactor = appendSingle !== undefined && appendCluster !== undefined ? appendCluster / appendSingle : 1;

function model(users, runtime) {
  const m = measured[runtime];
  const subscriptions = 1 + MIX.groupChannels;
  const connects = users / MIX.connectionLifetimeS;
  const requests = connects * (subscriptions + MIX.presenceQueriesPerConnect);
  const clientPubs = users / MIX.publishIntervalS;
  const backendPubs = users / MIX.backendIntervalS;
  const deliveries = clientPubs * MIX.groupSize + backendPubs;
  const recovered = connects * MIX.groupChannels * MIX.missedPerResubscribe;
  const gatewayCpu =
    connects * m.connectCpuS + (requests + clientPubs) * m.messageCpuS + deliveries * m.deliveryCpuS + recovered * recoveredCpuS;
  const cpuInstances = Math.ceil(gatewayCpu / MIX.cpuUtilisation);
  const socketInstances = Math.ceil(users / maxSocketsPerInstance);
  const instances = Math.max(cpuInstances, socketInstances);
  const memoryBytes = instances * m.baseRssBytes + users * (m.socketBytes + subscriptions * subscriptionBytes);
  // Redis: each connect is followed by its subscribes, presence reads and, an hour later, its close.
  const notifiedInstances = Math.min(MIX.groupSize, instances);
  const redisCpuFor = (appendFactor) =>
    connects *
      (redisCpuS('connect') +
        subscriptions * redisCpuS('subscribe') +
        MIX.presenceQueriesPerConnect * redisCpuS('presence') +
        redisCpuS('disconnectWithSubscription')) +
    (clientPubs + backendPubs) * redisCpuS('publish') * appendFactor +
    clientPubs * (notifiedInstances - 1) * (perNotifiedInstanceS ?? 0) +
    connects * MIX.groupChannels * (redisCpuS('recover') - redisCpuS('subscribe'));
  // Past one shard the appends run in their cluster form (slot-checked, writer recorded).
  const oneRedisCpu = redisCpuFor(1);
  const redisCpu = oneRedisCpu <= MIX.cpuUtilisation ? oneRedisCpu : redisCpuFor(clusterAppendFactor);
  const shards = Math.max(1, Math.ceil(redisCpu / MIX.cpuUtilisation));
  const redisBytes =
    users * subscriptions * ops.subscribe.redisBytes + (users / MIX.groupSize) * MIX.groupChannels * 100 * ops.publish.redisBytes;
  return {
    connects,
    deliveries,
    gatewayCpu,
    cpuInstances,
    socketInstances,
    instances,
    memoryBytes,
    redisCpu,
    shards,
    redisBytes,
  };
}

const fmt = (x, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const gib = (bytes) => `${fmt(bytes / 2 ** 30, 1)} GiB`;
const mib = (bytes) => `${fmt(bytes / 2 ** 20)} MiB`;
const µs = (s) => `${fmt(s * 1e6, 1)} µs`;

const lines = [];
lines.push(
  `Computed by \`npm run bench:capacity\` from \`${path.relative(root, runFile)}\` (commit ${run.git?.commit?.slice(0, 10)}, ${run.repetitions} repetitions), \`bench/results/redis-ops.json\` (n = ${redisOps.n})${clusterFile ? ` and \`bench/results/${clusterFile}\`` : ''}.`,
);
lines.push('', '### The measurements it uses', '', '| figure | Node | Bun | source |', '| --- | --- | --- | --- |');
lines.push(
  `| CPU per connect, whole ticket flow | ${µs(measured.node.connectCpuS)} | ${µs(measured.bun.connectCpuS)} | connect scenario, median connects/CPU-s |`,
);
lines.push(
  `| CPU per client message (echo) | ${µs(measured.node.messageCpuS)} | ${µs(measured.bun.messageCpuS)} | echo scenario (16 connections × 64 in flight: replies to one read leave in one write; a client with one message in flight costs more per message); used for subscribe, presence and publish requests |`,
);
lines.push(
  `| CPU per delivery (fan-out to 1000) | ${µs(measured.node.deliveryCpuS)} | ${µs(measured.bun.deliveryCpuS)} | fan-out scenario |`,
);
lines.push(`| CPU per recovered publication | ${µs(recoveredCpuS)} | (Node's) | recovery storm, Node on Redis |`);
lines.push(
  `| RSS per idle authenticated socket | ${fmt(measured.node.socketBytes / 1024, 2)} KiB | ${fmt(measured.bun.socketBytes / 1024, 2)} KiB | memory scenario at ${fmt(maxSocketsPerInstance)} sockets |`,
);
lines.push(`| RSS per subscription | ${fmt(subscriptionBytes / 1024, 2)} KiB | (Node's) | subs-memory scenario |`);
lines.push(
  `| RSS of an instance with no sockets | ${mib(measured.node.baseRssBytes)} | ${mib(measured.bun.baseRssBytes)} | memory scenario, 0 sockets |`,
);
for (const [name, label] of [
  ['connect', 'connect (ticket, auth, per-user count, session touch)'],
  ['subscribe', 'subscribe (history position, presence join)'],
  ['publish', 'publish (append + notify script)'],
  ['presence', 'presence read'],
  ['recover', 'resubscribe with `since`, 10–29 missed'],
  ['disconnectWithSubscription', 'close with one subscription'],
]) {
  lines.push(
    `| Redis CPU per ${label} | ${µs(redisCpuS(name))} | same | redis-ops: ${ops[name].commands} commands${ops[name].redisBytes > 0 ? `, ${ops[name].redisBytes} B kept` : ''} |`,
  );
}
if (perNotifiedInstanceS !== null) {
  lines.push(
    `| Redis CPU per further instance notified of a publication | ${µs(perNotifiedInstanceS)} | same | bench:cluster: PUBLISH to 3 subscribers vs none, pipelined |`,
  );
  lines.push(
    `| the append script on a cluster vs one Redis | ×${fmt(clusterAppendFactor, 2)} | same | bench:cluster: EVALSHA append, pipelined |`,
  );
}
lines.push('', '### What N connected users need, at the mix above', '');
lines.push(
  '| users | runtime | connects/s | deliveries/s | gateway CPU (cores) | instances (by CPU / by sockets) | gateway memory | Redis CPU (cores) | Redis shards | Redis memory |',
);
lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const users of [100_000, 1_000_000, 10_000_000]) {
  for (const runtime of ['node', 'bun']) {
    const r = model(users, runtime);
    lines.push(
      `| ${fmt(users)} | ${runtime === 'node' ? 'Node' : 'Bun'} | ${fmt(r.connects)} | ${fmt(r.deliveries)} | ${fmt(r.gatewayCpu, 1)} | ` +
        `**${fmt(r.instances)}** (${fmt(r.cpuInstances)} / ${fmt(r.socketInstances)}) | ${gib(r.memoryBytes)} | ${fmt(r.redisCpu, 2)} | **${fmt(r.shards)}** | ${gib(r.redisBytes)} |`,
    );
  }
}
const text = lines.join('\n');
const doc = path.join(root, 'docs/scaling.md');
const start = '<!-- capacity:start (written by `npm run bench:capacity`) -->';
const end = '<!-- capacity:end -->';
const current = readFileSync(doc, 'utf8');
const a = current.indexOf(start);
const b = current.indexOf(end);
if (a < 0 || b < a) throw new Error('docs/scaling.md has no capacity markers');
writeFileSync(doc, `${current.slice(0, a + start.length)}\n\n${text}\n\n${current.slice(b)}`);
console.log(text);
