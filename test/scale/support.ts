/**
 * Helpers for the scale-out tests: gateway instances against one real redis-server, with the
 * per-IP and per-login limits opened up (every test client is 127.0.0.1), readiness polling,
 * and small protocol helpers (subscribe/publish acknowledged by id).
 */
import assert from 'node:assert/strict';
import { connect, login, ticket, type Target } from '../support/flow.ts';
import { request, type HttpResponse } from '../support/http.ts';
import { startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';
import type { TestSocket } from '../support/ws-client.ts';

export const ADMIN_TOKEN = 'scale-admin-token-0123456789abcdef-0123';

/** Limits opened up so that many sockets and logins from 127.0.0.1 are not throttled. */
export const OPEN_LIMITS = [
  '--login-rate',
  '100/s,1000',
  '--ticket-rate',
  '100/s,1000',
  '--max-connections-per-ip',
  '1000',
  '--upgrade-rate',
  '100/s,1000',
  // The fan-out publisher pipelines 200 publishes on one socket.
  '--message-rate',
  '5000/s,5000',
];

/** `user:password` pairs: `u0..u(n-1)` with password `pw-<name>`. */
export function demoUsers(names: readonly string[]): string {
  return names.map((name) => `${name}:pw-${name}`).join(',');
}

export interface Instance extends Target {
  readonly name: string;
  readonly runtime: RuntimeTarget;
  readonly port: number;
  readonly server: ServerProcess;
}

export async function startInstance(
  name: string,
  runtime: RuntimeTarget,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Instance> {
  const server = await startServer(runtime, { args: [...args, '--log-level', 'info'], env, timeoutMs: 30_000 });
  return { name, runtime, port: server.port, server, origin: server.origin, wsUrl: server.wsUrl };
}

export const get = (target: { origin: string }, path: string): Promise<HttpResponse> => request(`${target.origin}${path}`);

/** Polls GET /readyz until it answers `status`; rejects after `timeoutMs`. */
export async function waitForReady(target: { origin: string }, status = 200, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  let last = 0;
  while (Date.now() - started < timeoutMs) {
    try {
      last = (await get(target, '/readyz')).status;
      if (last === status) return Date.now() - started;
    } catch {
      last = -1;
    }
    await sleep(50);
  }
  throw new Error(`${target.origin}/readyz did not answer ${status} within ${timeoutMs} ms (last ${last})`);
}

export const loginAs = (target: Target, user: string): Promise<string> => login(target, user, `pw-${user}`);

/** Opens a socket on `target`, sends the auth frame and returns the socket with its first answer (auth.ok) or close. */
export async function authWith(target: Target, tk: string): Promise<{ socket: TestSocket; ok: boolean; code?: number }> {
  const socket = connect(target);
  await socket.opened;
  socket.send({ type: 'auth', ticket: tk });
  return settle(socket);
}

/** Waits for the first message (auth.ok → ok) or the close (code). */
export async function settle(socket: TestSocket, timeoutMs = 8_000): Promise<{ socket: TestSocket; ok: boolean; code?: number }> {
  try {
    const first = await socket.message(0, timeoutMs);
    assert.equal(first.type, 'auth.ok', JSON.stringify(first));
    return { socket, ok: true };
  } catch {
    const closed = await socket.closeCode(timeoutMs);
    return { socket, ok: false, code: closed.code };
  }
}

/** Login on `loginOn`, ticket from `ticketFrom`, authenticated socket on `socketOn` (all may differ). */
export async function authenticatedOn(
  user: string,
  loginOn: Target,
  socketOn: Target = loginOn,
  ticketFrom: Target = loginOn,
  cookie?: string,
): Promise<TestSocket> {
  const session = cookie ?? (await loginAs(loginOn, user));
  const tk = await ticket(ticketFrom, session);
  const { socket, ok, code } = await authWith(socketOn, tk);
  assert.ok(ok, `auth on ${socketOn.origin} closed ${code}`);
  return socket;
}

/** What the protocol helpers need from a client socket (TestSocket or the load-balancer client). */
export type Peer = Pick<TestSocket, 'messages' | 'send' | 'message'>;

/** Sends a request with an id and waits for the reply carrying that id. */
export async function call(socket: Peer, message: Record<string, unknown>, timeoutMs = 5_000): Promise<Record<string, unknown>> {
  const from = socket.messages.length;
  socket.send(message);
  const deadline = Date.now() + timeoutMs;
  for (let i = from; ; i++) {
    const reply = await socket.message(i, Math.max(1, deadline - Date.now()));
    if (reply.id === message.id && reply.type !== 'message') return reply;
  }
}

let ids = 0;
export async function subscribe(socket: Peer, channel: string): Promise<void> {
  const reply = await call(socket, { type: 'subscribe', id: `s${++ids}`, channel });
  assert.equal(reply.type, 'ok', `subscribe ${channel}: ${JSON.stringify(reply)}`);
}

/** Deliveries (type "message") on a socket, in arrival order. */
export const deliveries = (socket: Peer, channel?: string) =>
  socket.messages.filter((m) => m.type === 'message' && (channel === undefined || m.channel === channel));

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** JSON log lines of an instance carrying `msg`. */
export const logLines = (instance: Instance, msg: string) => instance.server.logs().filter((line) => line.msg === msg);

/** Asserts nothing in the output looks like an unhandled error, crash or leaked secret. */
export function assertCleanOutput(instance: Instance, secrets: readonly string[] = []): void {
  const output = instance.server.output();
  assert.doesNotMatch(output, /unhandled|uncaught/i, `${instance.name} (${instance.runtime}) output:\n${output.slice(-4000)}`);
  for (const secret of secrets) assert.ok(!output.includes(secret), `${instance.name}: a secret reached the log`);
}
