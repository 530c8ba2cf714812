/**
 * A real Redis Cluster for tests, on loopback: `redis-server --cluster-enabled yes` per node (free
 * ports for clients and for the cluster bus), `redis-cli --cluster create`, then waits until every
 * node sees all slots served and every replica is in sync. No persistence. `kill(port)` SIGKILLs a
 * node (its replica is promoted after the node timeout), `restart(port)` brings it back with its
 * nodes.conf (it rejoins as a replica). Every node is SIGKILLed when the test process exits, even
 * if `stop()` was never reached.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { answersPing, freePort, REDIS_SERVER } from './redis-server.ts';

export const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
const run = promisify(execFile);

export interface ClusterNodeInfo {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  /** A replica's master id. */
  readonly master: string | null;
  readonly failed: boolean;
  /** Slot ranges served (masters). */
  readonly slots: readonly (readonly [number, number])[];
}

export interface RedisCluster {
  /** `redis+cluster://127.0.0.1:p1,…` naming every node. */
  readonly url: string;
  readonly ports: readonly number[];
  /** CLUSTER NODES as seen by a live node. */
  nodes(): Promise<ClusterNodeInfo[]>;
  /** The master serving `slot`, by a live node's view. */
  masterOf(slot: number): Promise<ClusterNodeInfo>;
  /** Runs a redis-cli command against one node (`-p port`); returns its stdout. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** SIGKILL one node. */
  kill(port: number): Promise<void>;
  /** Start a killed node again on its port, with its nodes.conf. */
  restart(port: number): Promise<void>;
  /** Resolves once every live node reports cluster_state:ok and all slots served by live masters. */
  settled(timeoutMs?: number): Promise<void>;
  /** SIGTERM every node, wait, delete the data directory. Idempotent. */
  stop(): Promise<void>;
  output(): string;
}

export interface StartClusterOptions {
  readonly masters?: number;
  /** Replicas per master (0 or more). */
  readonly replicas?: number;
  /** cluster-node-timeout: how long before a silent node is failed (and its replica promoted). */
  readonly nodeTimeoutMs?: number;
  readonly timeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHook = false;

export async function startRedisCluster(options: StartClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hws-cluster-'));
  const count = masters * (1 + replicas);
  const ports = await distinctFreePorts(count * 2);
  const nodes = Array.from({ length: count }, (_, i) => ({ port: ports[2 * i]!, busPort: ports[2 * i + 1]! }));
  const children = new Map<number, ChildProcess>();
  let output = '';
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }

  const launch = async (node: { port: number; busPort: number }) => {
    const args = [
      '--port',
      String(node.port),
      '--cluster-port',
      String(node.busPort),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${node.port}.conf`,
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      '--save',
      '',
      '--appendonly',
      'no',
      // A replica's first sync starts at once, not after the default 5 s wait for more replicas.
      '--repl-diskless-sync-delay',
      '0',
      '--dir',
      dir,
      '--loglevel',
      'warning',
    ];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += `[${node.port}] ${chunk}`));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += `[${node.port}] ${chunk}`));
    children.set(node.port, child);
    live.add(child);
    child.once('exit', () => live.delete(child));
    const deadline = Date.now() + 5000;
    while (!(await answersPing(node.port))) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server ${node.port} exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server ${node.port} did not answer PING:\n${output}`);
      await sleep(25);
    }
  };

  const end = async (port: number, signal: NodeJS.Signals) => {
    const child = children.get(port);
    children.delete(port);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };

  const cli = async (port: number, ...args: string[]) => (await run(REDIS_CLI, ['-p', String(port), ...args], { timeout: 10_000 })).stdout;

  const anyLive = () => {
    const port = nodes.find((n) => children.has(n.port))?.port;
    if (port === undefined) throw new Error('no live cluster node');
    return port;
  };

  const readNodes = async (): Promise<ClusterNodeInfo[]> => parseNodes(await cli(anyLive(), 'cluster', 'nodes'));

  const settled = async (wait = timeoutMs) => {
    const deadline = Date.now() + wait;
    for (;;) {
      if (await isSettled()) return;
      if (Date.now() > deadline)
        throw new Error(`cluster did not settle within ${wait} ms:\n${await describeState()}\n${output.slice(-3000)}`);
      await sleep(100);
    }
  };

  const isSettled = async () => {
    try {
      for (const node of nodes) {
        if (!children.has(node.port)) continue;
        const info = await cli(node.port, 'cluster', 'info');
        if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
        const view = parseNodes(await cli(node.port, 'cluster', 'nodes'));
        const served = view.filter((n) => n.role === 'master' && !n.failed).reduce((sum, n) => sum + slotCount(n), 0);
        if (served !== 16384) return false;
        if (view.some((n) => n.role === 'replica' && !n.failed && children.has(n.port))) {
          const replication = await cli(node.port, 'info', 'replication');
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
      }
      return true;
    } catch {
      return false;
    }
  };

  const describeState = async () => {
    try {
      return await cli(anyLive(), 'cluster', 'nodes');
    } catch (error) {
      return String(error);
    }
  };

  try {
    await Promise.all(nodes.map(launch));
    await run(
      REDIS_CLI,
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { timeout: 30_000 },
    );
    await settled();
  } catch (error) {
    await Promise.all(nodes.map((n) => end(n.port, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  let stopped = false;
  return {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    ports: nodes.map((n) => n.port),
    nodes: readNodes,
    async masterOf(slot) {
      const view = await readNodes();
      const master = view.find((n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
      if (master === undefined) throw new Error(`no master serves slot ${slot}`);
      return master;
    },
    cli,
    kill: (port) => end(port, 'SIGKILL'),
    async restart(port) {
      const node = nodes.find((n) => n.port === port);
      if (node === undefined) throw new Error(`not a node of this cluster: ${port}`);
      await end(port, 'SIGTERM');
      await launch(node);
    },
    settled,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(nodes.map((n) => end(n.port, 'SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => output,
  };
}

/** CLUSTER NODES lines: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`. */
export function parseNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.trim().split(' ');
      const flagList = flags!.split(',');
      return {
        id: id!,
        port: Number(address!.split('@')[0]!.split(':').at(-1)),
        role: flagList.includes('master') ? 'master' : 'replica',
        master: master === '-' ? null : master!,
        failed: flagList.includes('fail') || flagList.includes('fail?'),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-');
            return [Number(a), Number(b ?? a)] as const;
          }),
      } satisfies ClusterNodeInfo;
    });
}

const slotCount = (node: ClusterNodeInfo) => node.slots.reduce((sum, [a, b]) => sum + b - a + 1, 0);

/** Ports free now and all different (a port and its cluster bus port must not collide). */
async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
