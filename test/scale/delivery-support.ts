/**
 * Helpers for the delivery tests (issue 14): a config file with the namespaces they use, raw
 * protocol subscribers and a paced publisher, and the per-message checks — every publish answered
 * `ok` reached every subscriber exactly once, in offset order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ticket } from '../support/flow.ts';
import type { TestSocket } from '../support/ws-client.ts';
import { authWith, call, loginAs, sleep, startInstance, type Instance } from './support.ts';
import type { RuntimeTarget } from '../support/server-process.ts';

/** Starts instances A, B, C… on these runtimes; if one fails, the others are stopped before the error is thrown. */
export async function startAll(runtimes: readonly RuntimeTarget[], args: readonly string[]): Promise<Instance[]> {
  const started = await Promise.allSettled(runtimes.map((runtime, i) => startInstance(String.fromCharCode(65 + i), runtime, args)));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed === undefined) return started.map((r) => (r as PromiseFulfilledResult<Instance>).value);
  await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.server.stop() : undefined)));
  throw (failed as PromiseRejectedResult).reason;
}

/** `chat` keeps 1,000 for 5 minutes (the demo users may use only chat:*), with recovery, presence and join/leave. */
export function namespacesConfig(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hws-delivery-'));
  const file = path.join(dir, 'hardened-ws.json');
  writeFileSync(
    file,
    JSON.stringify({
      namespaces: {
        chat: { 'history-size': 1000, 'history-ttl': '5m', recovery: true, presence: true, 'join-leave': true },
      },
    }),
  );
  return file;
}

/** `n` authenticated sockets of `user` on `instance` (one login, a ticket each). */
export async function sockets(instance: Instance, user: string, n: number): Promise<TestSocket[]> {
  const cookie = await loginAs(instance, user);
  const out: TestSocket[] = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, async () => {
        const { socket, ok, code } = await authWith(instance, await ticket(instance, cookie));
        assert.ok(ok, `auth on ${instance.name} closed ${code}`);
        return socket;
      }),
    );
    out.push(...batch);
  }
  return out;
}

let ids = 0;
/** Subscribes (optionally with `since`); returns the ok reply. */
export async function subscribeAt(
  socket: TestSocket,
  channel: string,
  since?: { offset: number; epoch: string },
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const reply = await call(socket, { type: 'subscribe', id: `sub${++ids}`, channel, ...(since ? { since } : {}) }, timeoutMs);
  assert.equal(reply.type, 'ok', `subscribe ${channel}: ${JSON.stringify(reply)}`);
  return reply;
}

export interface Outcome {
  readonly data: number;
  /** `ok` with its position, or the error code. */
  readonly reply: { readonly offset: number; readonly epoch: string } | string;
  readonly at: number;
}

/**
 * Sends `count` publishes of the numbers 1..count at `perSecond` (pipelined, not waiting for
 * replies), then waits for every reply. `during(i)` runs before publish i (to kill things).
 */
export async function publishPaced(
  socket: TestSocket,
  channel: string,
  count: number,
  perSecond: number,
  during: (i: number) => Promise<void> | void = () => {},
): Promise<Outcome[]> {
  const started = Date.now();
  const sentAt = new Map<number, number>();
  const tag = `p${++ids}-`;
  for (let i = 1; i <= count; i++) {
    await during(i);
    const due = started + ((i - 1) * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    sentAt.set(i, Date.now());
    socket.send({ type: 'publish', id: `${tag}${i}`, channel, data: i });
  }
  const replies = new Map<number, Record<string, unknown>>();
  const deadline = Date.now() + 30_000;
  while (replies.size < count) {
    for (const m of socket.messages) {
      if (typeof m.id === 'string' && m.id.startsWith(tag)) replies.set(Number(m.id.slice(tag.length)), m);
    }
    if (replies.size < count) {
      if (Date.now() > deadline) throw new Error(`only ${replies.size} of ${count} publishes answered`);
      await sleep(20);
    }
  }
  return Array.from({ length: count }, (_, k) => {
    const r = replies.get(k + 1)!;
    const reply = r.type === 'ok' ? { offset: r.offset as number, epoch: r.epoch as string } : String(r.code);
    return { data: k + 1, reply, at: sentAt.get(k + 1)! };
  });
}

/** The deliveries one socket got on a channel, as [data, offset, epoch]. */
export const delivered = (socket: TestSocket, channel: string) =>
  socket.messages
    .filter((m) => m.type === 'message' && m.channel === channel)
    .map((m) => [m.data as number, m.offset as number, m.epoch as string] as const);

/** Waits until every socket has got every one of `datas` (or times out), polling. */
export async function untilDelivered(
  subscribers: readonly TestSocket[],
  channel: string,
  datas: readonly number[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing = subscribers.filter((s) => {
      const got = new Set(delivered(s, channel).map(([d]) => d));
      return datas.some((d) => !got.has(d));
    }).length;
    if (missing === 0) return;
    if (Date.now() > deadline) return; // the assertions below say what is missing
    await sleep(100);
  }
}

/**
 * Per message and subscriber: each publish in `acked` arrived exactly once; a subscriber's
 * deliveries come in strictly increasing offsets within each epoch, and never twice.
 */
export function assertExactlyOnceInOrder(subscribers: readonly TestSocket[], channel: string, acked: readonly Outcome[]): void {
  const problems: string[] = [];
  for (const [n, socket] of subscribers.entries()) {
    const got = delivered(socket, channel);
    const count = new Map<number, number>();
    for (const [data] of got) count.set(data, (count.get(data) ?? 0) + 1);
    const lost = acked.filter((o) => !count.has(o.data)).map((o) => o.data);
    const twice = [...count].filter(([, c]) => c > 1).map(([d]) => d);
    let disorder = 0;
    for (let i = 1; i < got.length; i++) {
      const [, offset, epoch] = got[i]!;
      const [, before, beforeEpoch] = got[i - 1]!;
      if (epoch === beforeEpoch && offset !== before + 1) disorder++;
    }
    if (lost.length || twice.length || disorder)
      problems.push(
        `subscriber ${n}: ${lost.length} acknowledged publishes lost (first ${lost.slice(0, 5).join(',')}), ${twice.length} twice, ${disorder} out of order`,
      );
  }
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} of ${subscribers.length} subscribers saw a problem`);
}
