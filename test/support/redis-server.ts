/**
 * A real redis-server for tests (never a mock): a free loopback port, no persistence unless asked
 * (`appendonly`: AOF fsync'd always, in a directory of its own), waits until it answers PING.
 * `kill()` (SIGKILL) simulates losing Redis; `restart()` brings it back on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGTERM and wait for exit. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: the clients see the connection drop with no goodbye. */
  kill(): Promise<void>;
  /** Start again on the same port (after stop/kill), waiting until it answers. */
  restart(): Promise<void>;
  /** Everything the server logged, for failure messages. */
  output(): string;
}

export interface StartRedisOptions {
  readonly timeoutMs?: number;
  /** Persist every write to an append-only file (fsync always), so a SIGKILL + restart loses nothing. */
  readonly appendonly?: boolean;
}

/** A port that was free a moment ago (a listener on port 0, closed again). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A loopback port where nothing listens, for "Redis unreachable" tests. */
export async function closedPortUrl(): Promise<string> {
  return `redis://127.0.0.1:${await freePort()}`;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const timeoutMs = options.timeoutMs ?? 5000;
  const dir = options.appendonly ? mkdtempSync(path.join(os.tmpdir(), 'hws-redis-')) : os.tmpdir();
  const persistence = options.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  let child: ChildProcess | null = null;
  let output = '';

  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--loglevel', 'warning'];
    const started = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    started.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child = started;
    const deadline = Date.now() + timeoutMs;
    while (!(await answersPing(port))) {
      if (started.exitCode !== null || started.signalCode !== null) throw new Error(`redis-server exited early:\n${output}`);
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const end = async (signal: NodeJS.Signals) => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill(signal);
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await end('SIGTERM');
      if (options.appendonly) rmSync(dir, { recursive: true, force: true });
    },
    kill: () => end('SIGKILL'),
    restart: async () => {
      await end('SIGTERM');
      await launch();
    },
    output: () => output,
  };
}

/** One raw RESP PING, so the harness does not depend on the client under test. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/**
 * Fails the running test file's tests if any promise rejection goes unhandled (ioredis errors must be
 * caught inside the library). Call at module level; check `assertNone()` in an afterEach hook.
 */
export function unhandledRejectionTripwire(): { assertNone(): void } {
  const seen: unknown[] = [];
  process.on('unhandledRejection', (reason) => seen.push(reason));
  return {
    assertNone() {
      const found = seen.splice(0);
      if (found.length > 0)
        throw new Error(`unhandled rejection(s): ${found.map((e) => (e instanceof Error ? e.stack : String(e))).join('\n')}`);
    },
  };
}

/** Polls until `condition` holds; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
