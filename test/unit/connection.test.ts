import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity, Verifier, VerifyRequest, VerifyResult } from '../../src/auth/verifier.ts';
import { CloseCodes } from '../../src/protocol/close-codes.ts';
import { Connection, type SocketPort } from '../../src/core/connection.ts';
import type { SendOutcome } from '../../src/core/socket-port.ts';
import { toFrame } from '../../src/protocol/frames.ts';
import type { Handler, Handlers } from '../../src/core/handler.ts';
import { resolveLimits, type Limits } from '../../src/core/limits.ts';
import { silentLogger, type Logger } from '../../src/logging/logger.ts';
import { SessionClock } from '../../src/core/session-clock.ts';
import type { InboundMessage } from '../../src/protocol/messages.ts';
import { spyLogger, type LogEntry } from '../support/spy-logger.ts';

const TICKET = 'Tkt.SECRET_conn-0123456789abcdef';
const NOW = 1_700_000_000_000;
const identity: Identity = { sub: 'alice', exp: NOW / 1000 + 3600, claims: {} };

// --- fakes ----------------------------------------------------------------------------------------

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class FakeSocket implements SocketPort {
  readonly sent: string[] = [];
  readonly closes: [number, string][] = [];
  buffered = 0;
  outcome: SendOutcome = 'sent';
  send(text: string): SendOutcome {
    this.sent.push(text);
    return this.outcome;
  }
  close(code: number, reason: string): void {
    this.closes.push([code, reason]);
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  terminated = 0;
  terminate(): void {
    this.terminated++;
  }
  get messages(): unknown[] {
    return this.sent.map((s) => JSON.parse(s));
  }
}

/** Each verify() returns a promise the test settles by hand. */
class FakeVerifier implements Verifier {
  readonly calls: VerifyRequest[] = [];
  readonly pending: Deferred<VerifyResult>[] = [];
  verify(request: VerifyRequest): Promise<VerifyResult> {
    this.calls.push(request);
    const d = deferred<VerifyResult>();
    this.pending.push(d);
    return d.promise;
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await tick();
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const baseLimits = resolveLimits({ authDeadlineMs: 2_000, verifyTimeoutMs: 1_000 });

function setup(opts: { limits?: Partial<Limits>; handlers?: Handlers; verifier?: Verifier; logger?: Logger } = {}) {
  const socket = new FakeSocket();
  const verifier = new FakeVerifier();
  const closedCalls: Connection[] = [];
  const conn = new Connection({
    id: 'c1',
    socket,
    verifier: opts.verifier ?? verifier,
    handlers: opts.handlers ?? {},
    limits: resolveLimits({ ...baseLimits, ...opts.limits }),
    logger: opts.logger ?? silentLogger,
    origin: 'https://app.example',
    ip: '203.0.113.7',
    now: () => NOW,
    sessionClock: new SessionClock(() => NOW),
    onClosed: (c) => closedCalls.push(c),
  });
  const sendText = (value: unknown) => conn.receive(toFrame(typeof value === 'string' ? value : JSON.stringify(value)));
  const auth = () => sendText({ type: 'auth', ticket: TICKET });
  /** Ends the test's timers: the peer goes away. */
  const end = () => conn.peerClosed(1000);
  return { socket, verifier, conn, closedCalls, sendText, auth, end };
}

/** A handler that records the ids it saw, synchronously. */
function recorder(): { seen: unknown[]; handler: Handler } {
  const seen: unknown[] = [];
  return { seen, handler: (m: InboundMessage) => void seen.push(m.id) };
}

async function authenticate(t: ReturnType<typeof setup>): Promise<void> {
  t.conn.open();
  t.auth();
  await flush();
  assert.equal(t.verifier.pending.length, 1, 'verify must have been called once');
  t.verifier.pending[0]!.resolve({ kind: 'ok', identity });
  await flush();
  assert.equal(t.conn.state.phase, 'authenticated');
}

// --- tests ----------------------------------------------------------------------------------------

describe('Connection: pipelining during verification', () => {
  it('frames sent while verification is pending are dispatched after auth.ok, in order', async () => {
    const rec = recorder();
    const t = setup({ handlers: { echo: rec.handler } });
    t.conn.open();
    t.auth();
    t.sendText({ type: 'echo', id: 1 });
    t.sendText({ type: 'echo', id: 2 });
    t.sendText({ type: 'echo', id: 3 });
    await flush();

    assert.deepEqual(t.verifier.calls, [{ ticket: TICKET, origin: 'https://app.example', ip: '203.0.113.7' }]);
    assert.equal(t.conn.state.phase, 'verifying');
    assert.deepEqual(rec.seen, [], 'nothing dispatched before verification');
    assert.deepEqual(t.socket.sent, []);

    t.sendText({ type: 'echo', id: 4 }); // still pending
    await flush();
    t.verifier.pending[0]!.resolve({ kind: 'ok', identity });
    await flush();

    assert.deepEqual(t.socket.messages, [{ type: 'auth.ok', sub: 'alice', exp: identity.exp }]);
    assert.deepEqual(rec.seen, [1, 2, 3, 4]);
    t.sendText({ type: 'echo', id: 5 });
    await flush();
    assert.deepEqual(rec.seen, [1, 2, 3, 4, 5]);
    assert.deepEqual(t.socket.closes, []);
    t.end();
  });

  it('auth.ok is sent before any reply produced by a queued message', async () => {
    const t = setup({ handlers: { echo: (m, ctx) => ctx.send({ type: 'echo', id: m.id }) } });
    t.conn.open();
    t.auth();
    t.sendText({ type: 'echo', id: 'a' });
    await flush();
    t.verifier.pending[0]!.resolve({ kind: 'ok', identity });
    await flush();
    assert.deepEqual(t.socket.messages, [
      { type: 'auth.ok', sub: 'alice', exp: identity.exp },
      { type: 'echo', id: 'a' },
    ]);
    t.end();
  });

  for (const [label, result, code] of [
    ['rejected', { kind: 'rejected', reason: 'reused' }, 4401],
    ['unavailable', { kind: 'unavailable', reason: 'status_503' }, 1013],
    ['ok but expired', { kind: 'ok', identity: { sub: 'alice', exp: NOW / 1000, claims: {} } }, 4401],
  ] as const) {
    it(`frames behind a ${label} verification are never dispatched (close ${code})`, async () => {
      const rec = recorder();
      const t = setup({ handlers: { echo: rec.handler } });
      t.conn.open();
      t.auth();
      t.sendText({ type: 'echo', id: 1 });
      t.sendText({ type: 'echo', id: 2 });
      await flush();
      t.verifier.pending[0]!.resolve(result as VerifyResult);
      await flush();
      t.sendText({ type: 'echo', id: 3 }); // after close: dropped
      await flush();

      assert.deepEqual(rec.seen, []);
      assert.deepEqual(t.socket.sent, []);
      const info = code === 4401 ? CloseCodes.ticketRejected : CloseCodes.tryAgainLater;
      assert.deepEqual(t.socket.closes, [[info.code, info.reason]]);
      assert.deepEqual(t.conn.state, { phase: 'closed', code });
      t.end();
    });
  }
});

describe('Connection: verification failures fail closed', () => {
  it('a verifier that never resolves → 1013 after verifyTimeoutMs', async () => {
    const t = setup({ limits: { verifyTimeoutMs: 50 } });
    t.conn.open();
    t.auth();
    await sleep(20);
    assert.deepEqual(t.socket.closes, [], 'not before the timeout');
    assert.equal(t.conn.state.phase, 'verifying');
    await sleep(100);
    assert.deepEqual(t.socket.closes, [[1013, CloseCodes.tryAgainLater.reason]]);
    assert.deepEqual(t.conn.state, { phase: 'closed', code: 1013 });
    t.end();
  });

  it('a verifier whose promise rejects → 1013', async () => {
    const t = setup();
    t.conn.open();
    t.auth();
    await flush();
    t.verifier.pending[0]!.reject(new Error(`boom ${TICKET}`));
    await flush();
    assert.deepEqual(t.socket.closes, [[1013, CloseCodes.tryAgainLater.reason]]);
    assert.deepEqual(t.conn.state, { phase: 'closed', code: 1013 });
    t.end();
  });

  // Regression: a verifier that throws synchronously fails closed (1013), not stuck in verifying.
  it('a verifier that throws synchronously → 1013 (fails until verifyWithin guards sync throws)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const throwing: Verifier = {
        verify(): Promise<VerifyResult> {
          throw new Error('sync failure');
        },
      };
      const t = setup({ verifier: throwing, limits: { verifyTimeoutMs: 50 } });
      t.conn.open();
      t.auth();
      await sleep(120); // past verifyTimeoutMs too: even the timeout must not be lost
      assert.deepEqual(t.socket.closes, [[1013, CloseCodes.tryAgainLater.reason]]);
      assert.deepEqual(t.conn.state, { phase: 'closed', code: 1013 });
      assert.deepEqual(unhandled, []);
      t.end();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('auth deadline passes without an auth frame → 4408, verifier never called', async () => {
    const t = setup({ limits: { authDeadlineMs: 30 } });
    t.conn.open();
    await sleep(10);
    assert.deepEqual(t.socket.closes, []);
    await sleep(60);
    assert.deepEqual(t.socket.closes, [[4408, CloseCodes.authTimeout.reason]]);
    assert.deepEqual(t.conn.state, { phase: 'closed', code: 4408 });
    assert.equal(t.verifier.calls.length, 0);
    t.end();
  });

  it('an auth frame before the deadline disarms it (no 4408 later)', async () => {
    const t = setup({ limits: { authDeadlineMs: 30 } });
    await authenticate(t);
    await sleep(70);
    assert.deepEqual(t.socket.closes, []);
    assert.equal(t.conn.state.phase, 'authenticated');
    t.end();
  });

  it('an invalid first frame closes 1008 and never reaches the verifier', async () => {
    const t = setup();
    t.conn.open();
    t.sendText({ type: 'echo', id: 1 });
    await flush();
    assert.deepEqual(t.socket.closes, [[1008, CloseCodes.policyViolation.reason]]);
    assert.equal(t.verifier.calls.length, 0);
    t.end();
  });
});

describe('Connection: ordering and lifecycle', () => {
  it('a slow async handler keeps order: message 2 starts only after message 1 resolved', async () => {
    const log: string[] = [];
    const gates = new Map<unknown, Deferred<void>>([
      [1, deferred<void>()],
      [2, deferred<void>()],
    ]);
    const t = setup({
      handlers: {
        slow: async (m) => {
          log.push(`start ${String(m.id)}`);
          await gates.get(m.id)!.promise;
          log.push(`end ${String(m.id)}`);
        },
      },
    });
    await authenticate(t);
    t.sendText({ type: 'slow', id: 1 });
    t.sendText({ type: 'slow', id: 2 });
    await flush();
    assert.deepEqual(log, ['start 1']);
    gates.get(2)!.resolve(); // releasing 2 first must not let it overtake
    await flush();
    assert.deepEqual(log, ['start 1']);
    gates.get(1)!.resolve();
    await flush();
    assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2']);
    t.end();
  });

  it('peerClosed twice calls onClosed exactly once and later frames are dropped', async () => {
    const rec = recorder();
    const t = setup({ handlers: { echo: rec.handler } });
    await authenticate(t);
    t.conn.peerClosed(1001);
    t.conn.peerClosed(1005);
    assert.equal(t.closedCalls.length, 1);
    assert.equal(t.closedCalls[0], t.conn);
    assert.deepEqual(t.conn.state, { phase: 'closed', code: 1001 });
    t.sendText({ type: 'echo', id: 9 });
    await flush();
    assert.deepEqual(rec.seen, []);
    assert.deepEqual(t.socket.closes, [], 'a peer close is not answered with a server close');
  });

  it('a handler that throws → error handler_failed with the id; socket stays open and keeps working', async () => {
    const rec = recorder();
    const t = setup({
      handlers: {
        bad: () => {
          throw new TypeError(`cannot handle ${TICKET}`);
        },
        badAsync: async () => {
          throw new Error('async');
        },
        echo: rec.handler,
      },
    });
    await authenticate(t);
    t.sendText({ type: 'bad', id: 7 });
    t.sendText({ type: 'badAsync', id: 'x' });
    t.sendText({ type: 'echo', id: 8 });
    await flush();
    assert.deepEqual(t.socket.messages.slice(1), [
      { type: 'error', id: 7, code: 'handler_failed' },
      { type: 'error', id: 'x', code: 'handler_failed' },
    ]);
    assert.deepEqual(rec.seen, [8]);
    assert.deepEqual(t.socket.closes, []);
    assert.equal(t.conn.state.phase, 'authenticated');
    t.end();
  });

  it('an idle socket handles a frame synchronously: nothing waits on the chain', async () => {
    const rec = recorder();
    const t = setup({ handlers: { echo: rec.handler } });
    await authenticate(t);
    t.sendText({ type: 'echo', id: 1 });
    assert.deepEqual(rec.seen, [1], 'dispatched before receive() returned');
    t.end();
  });

  it('frames during verification wait in the bounded auth queue, not among maxPendingEvents; overflow → 1008', async () => {
    const rec = recorder();
    const t = setup({ limits: { maxPendingEvents: 1, maxQueuedFrames: 3 }, handlers: { echo: rec.handler } });
    t.conn.open();
    t.auth();
    for (let id = 1; id <= 3; id++) t.sendText({ type: 'echo', id });
    assert.equal(t.conn.state.phase, 'verifying', 'three queued frames are within maxQueuedFrames, whatever maxPendingEvents is');
    t.sendText({ type: 'echo', id: 4 });
    assert.deepEqual(t.conn.state, { phase: 'closed', code: 1008 });
    await flush();
    assert.deepEqual(t.socket.closes, [[1008, CloseCodes.policyViolation.reason]]);
    t.verifier.pending[0]!.resolve({ kind: 'ok', identity });
    await flush();
    assert.deepEqual(rec.seen, [], 'nothing queued before the overflow is dispatched');
    assert.deepEqual(t.socket.sent, [], 'no auth.ok after the close');
    t.end();
  });

  it('maxPendingEvents behind a slow handler after auth → close 1008', async () => {
    const gate = deferred<void>();
    const t = setup({ limits: { maxPendingEvents: 3 }, handlers: { slow: () => gate.promise } });
    await authenticate(t);
    t.sendText({ type: 'slow', id: 0 });
    await flush(); // handler 0 is running; the chain is blocked
    for (let i = 1; i <= 3; i++) t.sendText({ type: 'slow', id: i });
    await flush();
    assert.deepEqual(t.socket.closes, []);
    assert.equal(t.conn.state.phase, 'authenticated');
    t.sendText({ type: 'slow', id: 4 });
    assert.deepEqual(t.conn.state, { phase: 'closed', code: 1008 });
    await flush();
    assert.deepEqual(t.socket.closes, [[1008, CloseCodes.policyViolation.reason]]);
    gate.resolve();
    await flush();
    t.end();
  });

  // The queue's fields live in an object dropped once they are empty again: a second burst must count from zero.
  it('maxPendingEvents counts afresh after the queue drained, and close callbacks still run', async () => {
    let gate = deferred<void>();
    const seen: unknown[] = [];
    const t = setup({
      limits: { maxPendingEvents: 2 },
      handlers: {
        slow: (m) => {
          seen.push(m.id);
          return gate.promise;
        },
      },
    });
    await authenticate(t);
    let closedCallbacks = 0;
    t.conn.onClose(() => closedCallbacks++);
    for (let burst = 0; burst < 2; burst++) {
      for (let i = 0; i < 3; i++) t.sendText({ type: 'slow', id: burst * 10 + i }); // one running, two queued
      await flush();
      assert.equal(t.conn.state.phase, 'authenticated', `burst ${burst}: two queued are within the cap`);
      gate.resolve();
      await flush();
      gate = deferred<void>();
    }
    assert.deepEqual(seen, [0, 1, 2, 10, 11, 12]);
    t.sendText({ type: 'slow', id: 20 });
    await flush();
    t.conn.onClose(() => closedCallbacks++);
    for (let i = 21; i <= 23; i++) t.sendText({ type: 'slow', id: i });
    assert.deepEqual(t.conn.state, { phase: 'closed', code: 1008 });
    gate.resolve();
    await flush();
    t.end();
    assert.equal(closedCallbacks, 2);
  });

  // Regression: a close while a queued message is handled cancels the rest of the queue.
  it('queued frames are not dispatched after the socket closed mid-drain', async () => {
    const seen: unknown[] = [];
    const gate = deferred<void>();
    const t = setup({
      handlers: {
        slow: async (m) => {
          seen.push(m.id);
          await gate.promise;
        },
        echo: (m) => void seen.push(m.id),
      },
    });
    t.conn.open();
    t.auth();
    t.sendText({ type: 'slow', id: 1 });
    t.sendText({ type: 'echo', id: 2 });
    await flush();
    t.verifier.pending[0]!.resolve({ kind: 'ok', identity });
    await flush();
    assert.deepEqual(seen, [1]);
    t.conn.peerClosed(1006);
    assert.equal(t.closedCalls.length, 1);
    gate.resolve();
    await flush();
    assert.deepEqual(seen, [1], 'message 2 must not be dispatched on a closed connection');
  });
});

describe('Connection: dispatch error replies', () => {
  async function replyTo(raw: string | ArrayBuffer, handlers: Handlers = {}): Promise<unknown[]> {
    const t = setup({ handlers });
    await authenticate(t);
    t.conn.receive(toFrame(raw));
    await flush();
    assert.deepEqual(t.socket.closes, [], 'error replies never close the socket');
    assert.equal(t.conn.state.phase, 'authenticated');
    t.end();
    return t.socket.messages.slice(1);
  }

  it('unknown type → error unknown_type with the id', async () => {
    assert.deepEqual(await replyTo('{"type":"nope","id":42}'), [{ type: 'error', id: 42, code: 'unknown_type' }]);
  });

  it('prototype names are not handlers → unknown_type', async () => {
    assert.deepEqual(await replyTo('{"type":"toString","id":"p"}'), [{ type: 'error', id: 'p', code: 'unknown_type' }]);
    assert.deepEqual(await replyTo('{"type":"constructor"}'), [{ type: 'error', code: 'unknown_type' }]);
  });

  it('invalid JSON → error invalid_json (no id)', async () => {
    assert.deepEqual(await replyTo('{"type":'), [{ type: 'error', code: 'invalid_json' }]);
  });

  it('invalid message with a readable id → invalid_message carrying the id', async () => {
    assert.deepEqual(await replyTo('{"id":5}'), [{ type: 'error', id: 5, code: 'invalid_message' }]);
  });

  it('binary after auth → error binary_unsupported', async () => {
    assert.deepEqual(await replyTo(new ArrayBuffer(8)), [{ type: 'error', code: 'binary_unsupported' }]);
  });

  it('a message over maxMessageBytes after auth → close 1009', async () => {
    const t = setup({ limits: { maxMessageBytes: 64 } });
    await authenticate(t);
    t.sendText({ type: 'echo', data: 'x'.repeat(100) });
    await flush();
    assert.deepEqual(t.socket.closes, [[1009, CloseCodes.tooBig.reason]]);
    t.end();
  });
});

describe('Connection: logging never contains the ticket', () => {
  it('across ok, handler failure, rejection, unavailability, timeout and close', async () => {
    const entries: LogEntry[] = [];
    const logger = spyLogger(entries);

    // ok + a failing handler whose error message quotes the ticket
    const a = setup({
      logger,
      handlers: {
        bad: () => {
          throw new Error(`bad ${TICKET}`);
        },
      },
    });
    await authenticate(a);
    a.sendText({ type: 'bad', id: 1 });
    await flush();
    a.conn.close(CloseCodes.goingAway, 'shutdown');
    a.conn.peerClosed(1001);

    // rejected
    const b = setup({ logger });
    b.conn.open();
    b.auth();
    await flush();
    b.verifier.pending[0]!.resolve({ kind: 'rejected', reason: 'reused' });
    await flush();
    b.end();

    // unavailable via a rejecting verifier
    const c = setup({ logger });
    c.conn.open();
    c.auth();
    await flush();
    c.verifier.pending[0]!.reject(new Error(TICKET));
    await flush();
    c.end();

    // verify timeout
    const d = setup({ logger, limits: { verifyTimeoutMs: 20 } });
    d.conn.open();
    d.auth();
    await sleep(50);
    d.end();

    // The scenarios really logged something (so the check below is not vacuous).
    const messages = entries.map((e) => e.message);
    for (const m of ['auth.ok', 'handler.failed', 'ws.close', 'auth.rejected', 'auth.unavailable']) {
      assert.ok(messages.includes(m), `expected a "${m}" log line, got ${JSON.stringify(messages)}`);
    }
    const okLine = entries.find((e) => e.message === 'auth.ok')!;
    assert.equal(okLine.fields.sub, 'alice');
    for (const entry of entries) {
      const serialized = JSON.stringify(entry);
      assert.ok(!serialized.includes(TICKET), `log line leaks the ticket: ${serialized}`);
      assert.ok(!serialized.includes('SECRET_conn'), `log line leaks part of the ticket: ${serialized}`);
    }
  });
});
