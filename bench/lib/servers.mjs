/* global clearTimeout, process, setTimeout */
/**
 * The servers under test and how each is started: pinned to the server core with `taskset`,
 * on a free port, waited for until it logs its "listening" line. A fresh process per trial.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = (name) => path.join(root, 'node_modules/.bin', name);
const gcHook = path.join(root, 'bench/lib/gc-hook.mjs');
const baseline = (name) => path.join(root, 'bench/baselines', name);

/**
 * Flags the benchmark passes to the product, and why (BENCHMARKS.md lists them): the defaults
 * are abuse limits for one client, and here one load generator plays thousands of clients from
 * one IP and one user. Everything else (heartbeats, logging at info, metrics, caps) stays default.
 */
export const PRODUCT_BENCH_FLAGS = [
  '--message-rate',
  '10000000/s,10000000', // default 50/s,100 per connection: echo runs thousands/s per connection
  '--upgrade-rate',
  '10000000/s,10000000', // default 20/s,60 per IP: connects run at thousands/s from 127.0.0.1
  '--max-connections-per-ip',
  '20000', // default 256
  '--max-connections-per-user',
  '20000', // default 16: every load connection is user "demo"
  '--ticket-rate',
  '10000000/s,10000000', // default 1/s,20 per login session: one session fetches every ticket
  '--login-rate',
  '1000/s,1000', // default 0.2/s,10: each load process logs in once
  '--ticket-ttl',
  '120s', // default 30s: the gateway-connect scenario issues its tickets before its warm-up and window
  '--log-level',
  process.env.BENCH_LOG_LEVEL ?? 'info', // the default, stated: per-connection lines are part of the cost (BENCH_LOG_LEVEL: experiments only)
];

/** The server API's key and the hooks' secret in the API and rpc scenarios (bench only). */
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef0123456789';
const BENCH_HOOK_SECRET = 'bench-hook-secret-0123456789abcdef01234';

/**
 * Every server the harness knows. `kind` says which client protocol talks to it; `load` is merged
 * into what the load script is told about the server (e.g. publish through the API); `backend`
 * is a process started first (on the load core) whose port replaces `{BACKEND_PORT}` in `args`.
 */
export const SERVERS = {
  'product-node': {
    label: 'hardened-ws (Node)',
    kind: 'product',
    command: process.execPath,
    args: [
      '--expose-gc',
      '--import',
      gcHook,
      path.join(root, 'dist/index.js'),
      '--port',
      '0',
      '--metrics-port',
      '0',
      ...PRODUCT_BENCH_FLAGS,
    ],
  },
  'product-bun': {
    label: 'hardened-ws (Bun)',
    kind: 'product',
    command: bin('bun'),
    args: ['run', '--preload', gcHook, path.join(root, 'src/index.ts'), '--port', '0', '--metrics-port', '0', ...PRODUCT_BENCH_FLAGS],
  },
  'product-deno': {
    label: 'hardened-ws (Deno)',
    kind: 'product',
    command: bin('deno'),
    args: [
      'run',
      '--allow-net',
      '--allow-read',
      '--allow-env',
      '--allow-sys=hostname',
      `--config=${path.join(root, 'deno.json')}`,
      path.join(root, 'src/index.ts'),
      '--port',
      '0',
      '--metrics-port',
      '0',
      ...PRODUCT_BENCH_FLAGS,
    ],
  },
  ws: {
    label: 'ws (Node)',
    kind: 'plain',
    command: process.execPath,
    args: ['--expose-gc', '--import', gcHook, baseline('ws-node.mjs'), '--port', '0'],
  },
  'bun-serve': {
    label: 'Bun.serve',
    kind: 'plain',
    command: bin('bun'),
    args: ['run', '--preload', gcHook, baseline('bun-serve.mjs'), '--port', '0'],
  },
  'deno-serve': {
    label: 'Deno.serve',
    kind: 'plain',
    command: bin('deno'),
    args: ['run', '--allow-net', baseline('deno-serve.mjs'), '--port', '0'],
  },
  socketio: {
    label: 'socket.io (Node, token middleware)',
    kind: 'socketio',
    command: process.execPath,
    args: ['--expose-gc', '--import', gcHook, baseline('socketio.mjs'), '--port', '0'],
  },
};

/**
 * The delivery scenarios (issue 14): the Node product on a redis-server the harness starts
 * (`{redis}` is its URL, set by setRedisUrl), with a config file naming the `chat` namespace:
 * with history (100 kept, recovery; no presence or join/leave, so only history differs), live
 * only, or with history and presence (the memory-per-subscription scenario, in memory).
 */
const config = (name) => path.join(root, 'bench/lib/configs', name);
const productNode = (extra) => ({
  kind: 'product',
  command: process.execPath,
  args: [
    '--expose-gc',
    '--import',
    gcHook,
    path.join(root, 'dist/index.js'),
    '--port',
    '0',
    '--metrics-port',
    '0',
    ...PRODUCT_BENCH_FLAGS,
    ...extra,
  ],
});
SERVERS['redis-history'] = {
  label: 'hardened-ws (Node, Redis, chat with history)',
  ...productNode(['--redis-url', '{redis}', '--config', config('chat-history.json')]),
};
SERVERS['redis-live'] = {
  label: 'hardened-ws (Node, Redis, chat live only)',
  ...productNode(['--redis-url', '{redis}', '--config', config('chat-live.json')]),
};
SERVERS['memory-presence'] = {
  label: 'hardened-ws (Node, chat with history and presence)',
  ...productNode(['--config', config('chat-presence.json')]),
};

// Issue 15: the same product with the server API on (publishes from POST /api/publish), and with
// the rpc hook pointing at bench/baselines/rpc-backend.mjs (rpc echo through the backend).
for (const runtime of ['node', 'bun']) {
  const base = SERVERS[`product-${runtime}`];
  SERVERS[`product-${runtime}-api`] = {
    ...base,
    label: `hardened-ws (${runtime === 'node' ? 'Node' : 'Bun'}), publish via the server API`,
    args: [...base.args, '--api-key', BENCH_API_KEY],
    load: { publisher: 'api', apiKey: BENCH_API_KEY },
  };
  SERVERS[`product-${runtime}-rpc`] = {
    ...base,
    label: `hardened-ws (${runtime === 'node' ? 'Node' : 'Bun'}), rpc echo through the hook`,
    args: [
      ...base.args,
      '--hook-rpc-url',
      'http://127.0.0.1:{BACKEND_PORT}/rpc',
      '--hook-secret',
      BENCH_HOOK_SECRET,
      '--rpc-rate',
      '10000000/s,10000000',
    ],
    backend: { script: 'rpc-backend.mjs', env: { HOOK_SECRET: BENCH_HOOK_SECRET } },
    load: { message: 'rpc' },
  };
}

let redisUrl = null;
/** Where `{redis}` in a server's arguments points (the harness's redis-server), or null. */
export const setRedisUrl = (url) => (redisUrl = url);

/**
 * A/B experiments: BENCH_EXPERIMENT="name=dir[,name2=dir2]", each dir holding a modified copy of
 * the project's `src/` and its `dist/` (`tsc -p tsconfig.build.json --outDir <dir>/dist`), adds
 * servers `<name>-node` and `<name>-bun` with the product's flags; pick them with `--servers`.
 */
for (const spec of (process.env.BENCH_EXPERIMENT ?? '').split(',').filter(Boolean)) {
  const [name, dir0] = spec.includes('=') ? spec.split('=') : ['exp', spec];
  const dir = path.resolve(root, dir0);
  SERVERS[`${name}-node`] = {
    ...SERVERS['product-node'],
    label: `${name} (Node, ${dir0})`,
    args: SERVERS['product-node'].args.map((a) => (a.endsWith('dist/index.js') ? path.join(dir, 'dist/index.js') : a)),
  };
  SERVERS[`${name}-bun`] = {
    ...SERVERS['product-bun'],
    label: `${name} (Bun, ${dir0})`,
    args: SERVERS['product-bun'].args.map((a) => (a.endsWith('src/index.ts') ? path.join(dir, 'src/index.ts') : a)),
  };
}

/**
 * Starts one server on `core`; resolves once it listens. `extraNodeArgs` go before the script
 * (e.g. `--cpu-prof`) for Node servers. `onLine` sees every line the server writes.
 */
export async function startServer(name, { core = 0, extraArgs = [], timeoutMs = 30_000, onLine: onAnyLine = () => {} } = {}) {
  const def = SERVERS[name];
  if (def === undefined) throw new Error(`unknown server ${name}`);
  const backend = def.backend === undefined ? null : await startBackend(def.backend);
  // Runtime flags go before the script: after `node`, or after `bun run`.
  const defArgs = def.args.map((a) => {
    if (backend !== null && a.includes('{BACKEND_PORT}')) return a.replace('{BACKEND_PORT}', String(backend.port));
    if (a !== '{redis}') return a;
    if (redisUrl === null) throw new Error(`${name} needs the harness's redis-server`);
    return redisUrl;
  });
  const args =
    def.command === process.execPath
      ? [...extraArgs, ...defArgs]
      : defArgs[0] === 'run'
        ? ['run', ...extraArgs, ...defArgs.slice(1)]
        : defArgs;
  const child = spawn('taskset', ['-c', String(core), def.command, ...args], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const gcWaiters = [];
  let listening;
  const onLine = (line) => {
    onAnyLine(line);
    if (!line.startsWith('{') || !(line.includes('"bench.gc"') || line.includes('"listening"'))) return;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      return; // not ours
    }
    if (entry.msg === 'bench.gc') gcWaiters.shift()?.(entry);
    if (entry.msg === 'listening' && typeof entry.url === 'string') listening?.(Number(/:(\d+)$/.exec(entry.url)?.[1]));
  };
  // Drained continuously (the product logs per connection); only the last 8 KiB are kept.
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8').on('data', (chunk) => {
      tail = (tail + chunk).slice(-8192);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) onLine(line);
    });
  }
  const exited = once(child, 'exit');
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start:\n${tail}`));
    }, timeoutMs);
    listening = (p) => {
      clearTimeout(timer);
      resolve(p);
    };
    exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${tail}`));
    });
  });
  return {
    name,
    pid: child.pid,
    port,
    origin: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${def.kind === 'socketio' ? '' : def.kind === 'product' ? '/ws' : '/'}`,
    kind: def.kind,
    load: def.load ?? {},
    backendPid: backend?.pid ?? null,
    /** The backend's CPU time so far and the calls it answered (rpc scenario), or null. */
    backendCpu: () => backend?.cpu() ?? Promise.resolve(null),
    output: () => tail,
    /** Forces a full GC through the preloaded hook; resolves with its memory line (or null if it has none). */
    gc(timeout = 10_000) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), timeout);
        gcWaiters.push((entry) => {
          clearTimeout(timer);
          resolve(entry);
        });
        child.kill('SIGUSR2');
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await backend?.stop();
    },
  };
}

/** A scenario's backend (bench/baselines/<script>), pinned to the load core; resolves with its port. */
async function startBackend({ script, env = {} }) {
  const child = spawn('taskset', ['-c', '1', process.execPath, path.join(root, 'bench/baselines', script)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const waiters = [];
  let portOf;
  const port = new Promise((resolve) => (portOf = resolve));
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const entry = JSON.parse(line);
      if (entry.msg === 'backend.listening') portOf(entry.port);
      if (entry.msg === 'backend.cpu') waiters.shift()?.(entry);
    }
  });
  const exited = once(child, 'exit');
  return {
    port: await port,
    pid: child.pid,
    cpu: () =>
      new Promise((resolve) => {
        waiters.push(resolve);
        child.kill('SIGUSR2');
      }),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
