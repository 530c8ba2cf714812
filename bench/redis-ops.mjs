/* global console, performance, process, setTimeout, URL */
/**
 * `npm run bench:redis-ops`: how many Redis commands each client action costs, for the capacity
 * model (docs/scaling.md). One Node instance on a fresh redis-server, the `chat` namespace with
 * history, recovery and presence on; each action is done N times by N sockets in sequence and the
 * delta of `INFO commandstats` (calls per command, scripts counted once per EVALSHA) is divided by
 * N. Counts, not timings: the figures do not depend on how busy the machine is.
 * Options: --n N (default 200), --json (print the result object only).
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { login, ticket } from './load/common.mjs';
import { startBenchRedis } from './lib/redis.mjs';
import { root, setRedisUrl, SERVERS, startServer } from './lib/servers.mjs';
import { LOAD_CORE, SERVER_CORE } from './lib/trial.mjs';

const argv = process.argv.slice(2);
const n = Number(argv[argv.indexOf('--n') + 1] || 200);
const jsonOnly = argv.includes('--json');
const log = jsonOnly ? () => {} : (line) => console.log(line);

const dir = mkdtempSync(path.join(tmpdir(), 'hws-redis-ops-'));
const configFile = path.join(dir, 'chat.json');
writeFileSync(
  configFile,
  JSON.stringify({
    namespaces: { chat: { 'history-size': 100, 'history-ttl': '5m', recovery: true, presence: true, 'join-leave': false } },
  }),
);
SERVERS['redis-ops'] = {
  ...SERVERS['redis-history'],
  args: [...SERVERS['redis-history'].args.filter((a) => !a.endsWith('.json')), configFile],
};

const redis = await startBenchRedis(LOAD_CORE);
setRedisUrl(redis.url);
const server = await startServer('redis-ops', { core: SERVER_CORE });
const admin = new Redis(redis.url);

/** Calls per command from INFO commandstats. */
async function commandCalls() {
  const calls = {};
  for (const line of (await admin.info('commandstats')).split('\r\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) calls[m[1]] = Number(m[2]);
  }
  return calls;
}

/** redis-server's used_memory in bytes, from INFO memory. */
async function redisUsedMemory() {
  return Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1] ?? 0);
}

/** redis-server's CPU seconds (user + system), from INFO cpu. */
async function redisCpuSeconds() {
  const info = await admin.info('cpu');
  const field = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/**
 * Runs `action` and returns, per repetition (n): Redis's CPU-µs (its idle share subtracted), the
 * bytes it kept, and the commands it executed (those run inside a script included), by command;
 * and the seconds the measurement took.
 */
async function measure(action) {
  await new Promise((resolve) => setTimeout(resolve, 300)); // the previous action's tail settles
  const before = await commandCalls();
  const cpuBefore = await redisCpuSeconds();
  const memoryBefore = await redisUsedMemory();
  const t0 = performance.now();
  await action();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const elapsed = (performance.now() - t0) / 1000;
  const cpuAfter = (await redisCpuSeconds()) - idleCpuPerSecond * elapsed;
  const memoryAfter = await redisUsedMemory();
  const after = await commandCalls();
  const per = {};
  let total = 0;
  for (const [cmd, calls] of Object.entries(after)) {
    const delta = calls - (before[cmd] ?? 0) - (cmd === 'info' ? 3 : 0); // our own INFO calls
    if (delta > 0) {
      per[cmd] = +(delta / n).toFixed(2);
      total += delta;
    }
  }
  return {
    redisCpuMicros: +(((cpuAfter - cpuBefore) * 1e6) / n).toFixed(1),
    redisBytes: Math.round((memoryAfter - memoryBefore) / n),
    commands: +(total / n).toFixed(2),
    byCommand: per,
    seconds: elapsed,
  };
}

/** An authenticated socket: a fresh ticket, the upgrade, the auth frame, auth.ok. */
async function open(cookie) {
  const t = await ticket(server.origin, cookie);
  const url = new URL('/ws', server.origin.replace(/^http/, 'ws'));
  const ws = new WebSocket(url); // no Origin, as the load generators (a ticket fetched without one is bound to none)
  const replies = [];
  let waiter = null;
  ws.on('close', (code, reason) => code !== 1000 && code !== 1005 && log(`closed ${code} ${reason}`));
  ws.on('message', (data) => {
    replies.push(JSON.parse(String(data)));
    waiter?.();
  });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  /** The reply to request `id` (an `error` reply throws). */
  const reply = async (id) => {
    for (;;) {
      const i = replies.findIndex((r) => r.id === id);
      if (i >= 0) {
        const r = replies.splice(i, 1)[0];
        if (r.type === 'error') throw new Error(`request ${id}: ${JSON.stringify(r)}`);
        return r;
      }
      await new Promise((resolve) => (waiter = resolve));
    }
  };
  ws.send(JSON.stringify({ type: 'auth', ticket: t }));
  await reply(undefined); // auth.ok carries no id
  return { ws, request: (message) => (ws.send(JSON.stringify(message)), reply(message.id)) };
}
const close = (ws) => new Promise((resolve) => (ws.once('close', resolve), ws.close()));

// Redis's own CPU with the instance connected and nothing asked (cron, the instance's leases and
// readiness probes): subtracted from each action's CPU in proportion to its duration.
let idleCpuPerSecond = 0;
const idle = await measure(() => new Promise((resolve) => setTimeout(resolve, 3000)));
idleCpuPerSecond = (idle.redisCpuMicros * n) / 1e6 / idle.seconds;
const cookie = await login(server.origin);
const results = { n, actions: {} };
log(
  `Redis per action (n = ${n}, one Node instance, chat: history 100/5m, recovery, presence); Redis idle ${(idleCpuPerSecond * 100).toFixed(2)} % CPU, subtracted`,
);
results.redisIdleCpuPerSecond = idleCpuPerSecond;

for (let i = 0; i < 20; i++) await close((await open(cookie)).ws); // warm-up: scripts loaded, code compiled
results.actions.connect = await measure(async () => {
  for (let i = 0; i < n; i++) await close((await open(cookie)).ws);
});
const sockets = [];
for (let i = 0; i < n; i++) sockets.push(await open(cookie));
results.actions.subscribe = await measure(async () => {
  for (const [i, s] of sockets.entries()) await s.request({ type: 'subscribe', id: 1, channel: `chat:room-${i % 10}` });
});
const positions = [];
results.actions.publish = await measure(async () => {
  for (const [i, s] of sockets.entries())
    positions.push(await s.request({ type: 'publish', id: 2, channel: `chat:room-${i % 10}`, data: 'x'.repeat(64) }));
});
results.actions.presence = await measure(async () => {
  for (const [i, s] of sockets.entries()) await s.request({ type: 'presence', id: 3, channel: `chat:room-${i % 10}` });
});
// Recovery: each socket leaves its channel, misses 10–29 publications, and resubscribes with `since`.
for (const [i, s] of sockets.entries()) await s.request({ type: 'unsubscribe', id: 4, channel: `chat:room-${i % 10}` });
for (let k = 0; k < 10; k++)
  for (let room = 0; room < 10; room++) await sockets[room].request({ type: 'publish', id: 5, channel: `chat:room-${room}`, data: 'y' });
results.actions.recover = await measure(async () => {
  for (const [i, s] of sockets.entries()) {
    const { offset, epoch } = positions[i];
    const ok = await s.request({ type: 'subscribe', id: 6, channel: `chat:room-${i % 10}`, since: { offset, epoch } });
    if (ok.recovered === false) throw new Error(`not recovered: ${JSON.stringify(ok)}`);
  }
});
results.actions.disconnectWithSubscription = await measure(async () => {
  for (const s of sockets) await close(s.ws);
});

for (const [name, r] of Object.entries(results.actions)) {
  log(
    `  ${name.padEnd(28)} ${String(r.redisCpuMicros).padStart(7)} Redis CPU-µs ${String(r.redisBytes).padStart(6)} B  ${String(r.commands).padStart(6)} commands  ${JSON.stringify(r.byCommand)}`,
  );
}
results.measuredAt = new Date().toISOString();
writeFileSync(path.join(root, 'bench/results/redis-ops.json'), `${JSON.stringify(results, null, 2)}\n`);
log('wrote bench/results/redis-ops.json (read by bench/capacity.mjs)');
if (jsonOnly) console.log(JSON.stringify(results));
await admin.quit();
await server.stop();
await redis.stop();
process.exit(0);
