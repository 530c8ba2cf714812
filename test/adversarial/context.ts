/**
 * Shared state of one runtime's adversarial run: the server under test, its limits, the cookies
 * of a well-behaved user and of an attacker, observation recording, and a good client that keeps
 * echoing while an attack runs.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { authenticated, ticket, type Target } from '../support/flow.ts';
import type { RuntimeTarget, ServerProcess } from '../support/server-process.ts';
import type { Closed, TestSocket } from '../support/ws-client.ts';
import { endpointOf, wellBehavedClientWorks, type Endpoint } from './raw.ts';

export const ATTACKER = { username: 'mallory', password: 'mallory-password' } as const;
export const DEMO_USERS = `demo:demo,${ATTACKER.username}:${ATTACKER.password}`;

/**
 * Limits small enough to hit quickly. Login and ticket rates are raised so the suite's own
 * well-behaved logins are never the thing that gets limited.
 */
export const adversarialArgs = [
  '--auth-timeout',
  '1s',
  '--max-message',
  '16KiB',
  '--message-rate',
  '20/s,40',
  '--max-connections-per-ip',
  '400',
  '--upgrade-rate',
  '200/s,400',
  '--heartbeat-interval',
  '1s',
  '--heartbeat-timeout',
  '1s',
  '--max-buffered',
  '256KiB',
  '--login-rate',
  '50/s,100',
  '--ticket-rate',
  '200/s,400',
  '--demo-users',
  DEMO_USERS,
];

export const MAX_MESSAGE = 16 * 1024;
export const AUTH_DEADLINE_MS = 1_000;
export const RSS_BOUND_MB = 100;
export const CASE = { timeout: 30_000 } as const;

export interface Run {
  readonly runtime: RuntimeTarget;
  server: ServerProcess;
  target: Target;
  endpoint: Endpoint;
  goodCookie: string;
  attackerCookie: string;
}

export const targetOf = (server: ServerProcess): Target => ({ origin: server.origin, wsUrl: server.wsUrl });

export const attackerTicket = (run: Run) => ticket(run.target, run.attackerCookie);

/** Prints an observation (per runtime) and, with ADVERSARIAL_OBSERVATIONS=<file>, appends it as a JSON line. */
export function note(t: TestContext, run: Run | RuntimeTarget, key: string, value: string): void {
  const runtime = typeof run === 'string' ? run : run.runtime;
  t.diagnostic(`[${runtime}] ${key}: ${value}`);
  const file = process.env.ADVERSARIAL_OBSERVATIONS;
  if (file) appendFileSync(file, `${JSON.stringify({ runtime, key, value })}\n`);
}

export function assertAlive(server: ServerProcess): void {
  assert.equal(server.child.exitCode, null, `server exited:\n${server.output().slice(-2_000)}`);
  assert.equal(server.child.signalCode, null, 'server killed by a signal');
}

/** Every case ends here: the server is alive and a well-behaved client authenticates and echoes. */
export async function stillServes(t: TestContext, run: Run, server = run.server, target = run.target): Promise<void> {
  assertAlive(server);
  const rtt = await wellBehavedClientWorks(target, server === run.server ? run.goodCookie : undefined);
  t.diagnostic(`[${run.runtime}] well-behaved client ok (echo ${rtt.toFixed(1)} ms)`);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const histogram = (values: readonly (string | number)[]) => {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}×${n}`).join(', ');
};

/**
 * An authenticated good client echoing in a loop, paced under the per-connection message rate,
 * recording every round trip until stopped.
 */
export class EchoLoop {
  readonly rtts: number[] = [];
  readonly failures: string[] = [];
  #socket: TestSocket | undefined;
  #running = false;
  #done: Promise<void> = Promise.resolve();
  #closed: Closed | undefined;

  constructor(
    private readonly target: Target,
    private readonly cookie: string,
    private readonly gapMs = 60,
  ) {}

  async start(): Promise<void> {
    this.#socket = await authenticated(this.target, this.cookie);
    void this.#socket.closed.then((closed) => (this.#closed = closed));
    this.#running = true;
    this.#done = this.#loop();
  }

  async #loop(): Promise<void> {
    const socket = this.#socket!;
    let index = 0;
    while (this.#running) {
      index++;
      const started = performance.now();
      socket.send({ type: 'echo', id: index, data: `good-${index}` });
      try {
        const reply = await socket.message(index, 5_000);
        if (reply.type !== 'echo' || reply.id !== index) this.failures.push(`unexpected reply ${JSON.stringify(reply)}`);
        this.rtts.push(performance.now() - started);
      } catch (error) {
        this.failures.push(String(error));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, this.gapMs));
    }
  }

  /** Stops the loop and closes the socket; returns what happened. */
  async stop(): Promise<{ rtts: number[]; failures: string[]; closedEarly: Closed | undefined }> {
    this.#running = false;
    await this.#done;
    const closedEarly = this.#closed;
    this.#socket?.close();
    await this.#socket?.closeCode(3_000).catch(() => undefined);
    return { rtts: this.rtts, failures: this.failures, closedEarly };
  }
}

export const summary = (rtts: readonly number[]) =>
  `n=${rtts.length} p50=${percentile(rtts, 50).toFixed(1)} ms p99=${percentile(rtts, 99).toFixed(1)} ms max=${Math.max(...rtts).toFixed(1)} ms`;

export { endpointOf };
