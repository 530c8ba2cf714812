/**
 * Starts the server as a subprocess (any runtime), waits for its "listening" log line and reads
 * the real port from it. Collects stdout/stderr so tests can assert on the log.
 * Every server gets `--metrics-port 0` (before the test's own args, which may override it): test
 * servers run in parallel and would all claim the default 9464.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

export const projectRoot = path.resolve(import.meta.dirname, '../..');
const bin = (name: string) => path.join(projectRoot, 'node_modules/.bin', name);

export type RuntimeTarget = 'node' | 'bun' | 'deno' | 'binary';

/**
 * The command that starts the server on each runtime, exactly as the README and the design card
 * give it (`node dist/index.js`, `bun run src/index.ts`, `deno run … src/index.ts`), run from the
 * project root.
 */
export function serverCommand(runtime: RuntimeTarget): { command: string; args: string[] } {
  switch (runtime) {
    case 'node':
      return { command: process.execPath, args: ['dist/index.js'] };
    case 'bun':
      return { command: bin('bun'), args: ['run', 'src/index.ts'] };
    case 'deno':
      return {
        command: bin('deno'),
        // deno.json (the import map) is found from the working directory.
        args: ['run', '--allow-net', '--allow-read', '--allow-env', '--allow-sys=hostname', 'src/index.ts'],
      };
    case 'binary':
      return { command: path.join(projectRoot, 'build/hardened-ws'), args: [] };
  }
}

export interface ServerProcess {
  readonly port: number;
  readonly origin: string;
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>/metrics` of the metrics listener, from its `metrics.listening` line; undefined with `--metrics-port off`. */
  readonly metricsUrl: string | undefined;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** SIGTERM, then wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  readonly tls?: boolean;
  readonly timeoutMs?: number;
}

export async function startServer(runtime: RuntimeTarget, options: StartOptions = {}): Promise<ServerProcess> {
  const { command, args } = serverCommand(runtime);
  return startCommand(runtime, command, [...args, '--port', '0', '--metrics-port', '0', ...(options.args ?? [])], options);
}

/**
 * Runs a command that starts the server (any command line: `npm start` from a fresh copy, say) and
 * waits for its "listening" line. `cwd` defaults to the project root.
 */
export async function startCommand(
  label: string,
  command: string,
  args: readonly string[],
  options: StartOptions & { readonly cwd?: string; readonly processGroup?: boolean } = {},
): Promise<ServerProcess> {
  const child = spawn(command, args, {
    // A launcher (npm) does not pass SIGTERM on to the server it runs: signal its whole group.
    detached: options.processGroup ?? false,
    cwd: options.cwd ?? projectRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  // The metrics listener starts (and logs) before the main one, so both are known once "listening" is.
  let metricsUrl: string | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start:\n${output}`)), options.timeoutMs ?? 20_000);
    const check = () => {
      // Complete lines only (the last piece may still be arriving).
      for (const line of output.split('\n').slice(0, -1)) {
        if (!line.startsWith('{')) continue;
        let entry: { msg?: unknown; url?: unknown };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (entry.msg === 'metrics.listening' && typeof entry.url === 'string') metricsUrl = entry.url;
        const match = entry.msg === 'listening' && typeof entry.url === 'string' ? /:(\d+)$/.exec(entry.url) : null;
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
          return;
        }
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code}:\n${output}`));
    });
  });

  const scheme = options.tls ? 'https' : 'http';
  return {
    port,
    origin: `${scheme}://127.0.0.1:${port}`,
    wsUrl: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    metricsUrl,
    child,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const kill = (sig: NodeJS.Signals) => {
        try {
          if (options.processGroup) process.kill(-child.pid!, sig);
          else child.kill(sig);
        } catch {
          // ESRCH: the group has already ended
        }
      };
      kill(signal);
      const timer = setTimeout(() => kill('SIGKILL'), 15_000);
      const code = await exited;
      // The launcher may end before the server it ran: wait until no process of the group is left
      // and its output (the server writes to the same pipes) has been read to the end.
      if (options.processGroup) await Promise.all([groupGone(child.pid!), child.stdout!.closed ? undefined : once(child.stdout!, 'close')]);
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resolves once no process of the group `pgid` is left. */
async function groupGone(pgid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return; // ESRCH: the group is empty
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
