/** Runs `hardened-ws audit` as a user would (each runtime's command) and starts the fixture targets. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { AuditResult } from '../../src/audit/index.ts';
import type { Status } from '../../src/audit/finding.ts';
import { projectRoot, type RuntimeTarget } from '../support/server-process.ts';
import type { FixtureOptions } from './fixtures/naive-server.ts';

const bin = (name: string) => path.join(projectRoot, 'node_modules/.bin', name);

/** The audit command on each runtime, exactly as docs/audit.md gives it. */
export function auditCommand(runtime: RuntimeTarget): { command: string; args: string[] } {
  switch (runtime) {
    case 'node':
      return { command: process.execPath, args: ['dist/index.js', 'audit'] };
    case 'bun':
      return { command: bin('bun'), args: ['run', 'src/index.ts', 'audit'] };
    case 'deno':
      return {
        command: bin('deno'),
        args: ['run', '--allow-net', '--allow-read', '--allow-env', '--allow-sys=hostname', '--allow-run', 'src/index.ts', 'audit'],
      };
    case 'binary':
      return { command: path.join(projectRoot, 'build/hardened-ws'), args: ['audit'] };
  }
}

export interface AuditRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The --json report, when there is one. */
  readonly result: AuditResult | undefined;
  readonly wallMs: number;
}

export async function runAuditCli(
  runtime: RuntimeTarget,
  args: readonly string[],
  options: { env?: Record<string, string>; killAfterMs?: number } = {},
): Promise<AuditRun> {
  const { command, args: base } = auditCommand(runtime);
  const started = performance.now();
  const child = spawn(command, [...base, ...args], {
    cwd: projectRoot,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  let result: AuditResult | undefined;
  if (args.includes('--json') && stdout.trim().startsWith('{')) result = JSON.parse(stdout) as AuditResult;
  return { code, stdout, stderr, result, wallMs: performance.now() - started };
}

/** Statuses by probe id. */
export const statuses = (result: AuditResult): Record<string, Status> => Object.fromEntries(result.findings.map((f) => [f.id, f.status]));

/** Every probe id with the status it should have: `pass` unless listed. */
export function expectStatuses(result: AuditResult, overrides: Record<string, Status>, what: string): void {
  const expected = Object.fromEntries(result.findings.map((f) => [f.id, overrides[f.id] ?? 'pass']));
  const detail = result.findings
    .filter((f) => f.status !== expected[f.id])
    .map((f) => `${f.id}: expected ${expected[f.id]}, got ${f.status} — ${f.evidence.join(' | ')}`)
    .join('\n');
  assert.deepEqual(statuses(result), expected, `${what}:\n${detail}`);
}

/** The run stayed within the bound it printed before it started (stderr's first line says the same). */
export function assertWithinBound(run: AuditRun, observedConnections?: number): void {
  const r = run.result!;
  const printed = /at most (\d+) connections/.exec(run.stderr)?.[1];
  assert.equal(Number(printed), r.bound.connections, 'the bound printed before the run is the one reported');
  assert.ok(r.used.connections <= r.bound.connections, `connections ${r.used.connections} > bound ${r.bound.connections}`);
  assert.ok(r.used.bytes <= r.bound.bytes, `bytes ${r.used.bytes} > bound ${r.bound.bytes}`);
  assert.ok(r.durationMs <= r.bound.ms, `duration ${r.durationMs} ms > bound ${r.bound.ms} ms`);
  if (observedConnections !== undefined)
    assert.ok(
      observedConnections <= r.bound.connections,
      `the target saw ${observedConnections} connections > bound ${r.bound.connections}`,
    );
  for (const f of r.findings)
    assert.ok(!f.evidence.some((e) => e.startsWith('unexpected error')), `${f.id} crashed: ${f.evidence.join(' | ')}`);
}

export interface Fixture {
  readonly port: number;
  readonly url: string;
  /** TCP connections the fixture accepted so far from the audit (not counting the --ticket-cmd's). */
  connections(): number;
  stop(): Promise<void>;
}

export async function startFixture(options: FixtureOptions, scheme: 'ws' | 'wss' = options.tls ? 'wss' : 'ws'): Promise<Fixture> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'test/audit/fixtures/naive-server.ts'), JSON.stringify(options)],
    {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture did not start: ${output}`)), 10_000);
    child.stdout.on('data', () => {
      const first = /^(\d+)\n/.exec(output);
      if (first) {
        clearTimeout(timer);
        resolve(Number(first[1]));
      }
    });
  });
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}/ws`,
    connections: () => Number([...output.matchAll(/^conn (\d+)$/gm)].at(-1)?.[1] ?? 0) - [...output.matchAll(/^ticket$/gm)].length,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

/** A port nothing listens on (bound, then closed). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
