/* global process, setTimeout */
/**
 * A Redis Cluster for the cluster bench: `masters` redis-servers with --cluster-enabled yes, no
 * replicas, no persistence, pinned to `core`, joined by `redis-cli --cluster create`; resolves once
 * every node reports cluster_state:ok. Its URL is the product's `redis+cluster://` form.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
const run = promisify(execFile);

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

export async function startBenchCluster(core, masters = 3) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hws-bench-cluster-'));
  const ports = new Set();
  while (ports.size < masters * 2) ports.add(await freePort());
  const list = [...ports];
  const nodes = Array.from({ length: masters }, (_, i) => ({ port: list[2 * i], bus: list[2 * i + 1] }));
  const children = nodes.map(({ port, bus }) =>
    spawn(
      'taskset',
      [
        '-c',
        String(core),
        REDIS_SERVER,
        '--port',
        String(port),
        '--cluster-port',
        String(bus),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
      ].concat(['--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning']),
      { stdio: 'ignore' },
    ),
  );
  const stop = async () => {
    await Promise.all(children.filter((c) => c.exitCode === null).map((c) => (c.kill('SIGTERM'), once(c, 'exit'))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const cli = async (port, ...args) => (await run(REDIS_CLI, ['-p', String(port), ...args])).stdout;
    const deadline = Date.now() + 20_000;
    for (const { port } of nodes) {
      while (!(await cli(port, 'ping').catch(() => '')).includes('PONG')) {
        if (Date.now() > deadline) throw new Error('cluster nodes did not start');
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes']);
    for (const { port } of nodes) {
      while (!(await cli(port, 'cluster', 'info')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error('cluster did not become ok');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    ports: nodes.map((n) => n.port),
    pids: children.map((c) => c.pid),
    stop,
  };
}
