/**
 * Hardening behaviour of the state machine and the driver: session expiry and in-band refresh,
 * message rate, slow consumers, per-user admission, retry hints.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transition, type ConnEvent, type ConnState } from '../../src/core/connection-machine.ts';
import type { Identity, Verifier, VerifyResult } from '../../src/auth/verifier.ts';
import { CloseCodes } from '../../src/protocol/close-codes.ts';
import { Connection, type Admit } from '../../src/core/connection.ts';
import { resolveLimits, type Limits } from '../../src/core/limits.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { SessionClock } from '../../src/core/session-clock.ts';
import type { SendOutcome, SocketPort } from '../../src/core/socket-port.ts';
import { builtinHandlers } from '../../src/builtins/index.ts';
import type { GatewayObserver } from '../../src/core/observer.ts';
import { utf8ByteLength } from '../../src/protocol/parse.ts';

const NOW = 1_700_000_000_000;
const limits = resolveLimits();
const alice: Identity = { sub: 'alice', exp: NOW / 1000 + 3600, claims: {} };
const authenticated: ConnState = { phase: 'authenticated', identity: alice, refreshing: false };
const TICKET = 'refresh-ticket-0123456789abcdef';

const run = (state: ConnState, event: ConnEvent, now = NOW) => transition(state, event, now, limits);
/** A `refresh` frame as the client sends it: the machine parses it itself. */
const refreshFrame = (fields: Record<string, unknown>): ConnEvent => {
  const data = JSON.stringify({ type: 'refresh', ...fields });
  return { type: 'frame', frame: { kind: 'text', data, bytes: utf8ByteLength(data) } };
};

describe('state machine: session expiry', () => {
  it('session_warning for the current exp tells the client how long is left', () => {
    const t = run(authenticated, { type: 'session_warning', exp: alice.exp }, NOW + 3_540_000);
    assert.deepEqual(t.effects, [{ type: 'send', message: { type: 'session.expiring', in: 60_000 } }]);
  });

  it('session_expired for the current exp closes 4410', () => {
    const t = run(authenticated, { type: 'session_expired', exp: alice.exp });
    assert.deepEqual(t.state, { phase: 'closed', code: 4410 });
    assert.deepEqual(t.effects, [{ type: 'close', code: 4410, reason: 'session expired', cause: 'session_expired' }]);
  });

  it('timers armed for an older exp (before a refresh) are ignored', () => {
    for (const type of ['session_warning', 'session_expired'] as const) {
      const t = run(authenticated, { type, exp: alice.exp - 100 });
      assert.equal(t.state, authenticated);
      assert.deepEqual(t.effects, []);
    }
  });
});

describe('state machine: in-band refresh', () => {
  it('a refresh frame starts one verification and marks the session refreshing', () => {
    const t = run(authenticated, refreshFrame({ ticket: TICKET, id: 7 }));
    assert.deepEqual(t.state, { ...authenticated, refreshing: true });
    assert.deepEqual(t.effects, [{ type: 'verify', ticket: TICKET, purpose: 'refresh', id: 7 }]);
  });

  it('a second refresh while one is in flight is refused (single flight)', () => {
    const refreshing: ConnState = { ...authenticated, refreshing: true };
    const t = run(refreshing, refreshFrame({ ticket: TICKET, id: 8 }));
    assert.equal(t.state, refreshing);
    assert.deepEqual(t.effects, [{ type: 'send', message: { type: 'error', id: 8, code: 'refresh_in_progress' } }]);
  });

  it('a refresh without a ticket is an invalid message', () => {
    const t = run(authenticated, refreshFrame({ id: 9 }));
    assert.deepEqual(t.effects, [{ type: 'send', message: { type: 'error', id: 9, code: 'invalid_message' } }]);
  });

  const refreshing: ConnState = { ...authenticated, refreshing: true };

  it('ok for the same user extends exp, re-arms timers and confirms', () => {
    const later: Identity = { sub: 'alice', exp: alice.exp + 3600, claims: { fresh: true } };
    const t = run(refreshing, { type: 'refresh_verified', result: { kind: 'ok', identity: later }, id: 7 });
    assert.deepEqual(t.state, { phase: 'authenticated', identity: later, refreshing: false });
    assert.deepEqual(t.effects, [
      { type: 'audit', event: 'refresh.ok', fields: { exp: later.exp } },
      { type: 'send', message: { type: 'session.refreshed', id: 7, exp: later.exp } },
      { type: 'arm_session_timers', exp: later.exp },
    ]);
  });

  it('ok for another user closes 4401: a socket never changes identity', () => {
    const bob: Identity = { sub: 'bob', exp: alice.exp + 3600, claims: {} };
    const t = run(refreshing, { type: 'refresh_verified', result: { kind: 'ok', identity: bob }, id: 7 });
    assert.deepEqual(t.state, { phase: 'closed', code: 4401 });
    assert.equal(t.effects.at(-1)?.type, 'close');
  });

  it('rejected and unavailable refreshes are error replies; the session goes on until its exp', () => {
    const rejected = run(refreshing, { type: 'refresh_verified', result: { kind: 'rejected', reason: 'expired' }, id: 1 });
    assert.deepEqual(rejected.state, authenticated);
    assert.deepEqual(rejected.effects.at(-1), { type: 'send', message: { type: 'error', id: 1, code: 'refresh_rejected' } });
    const unavailable = run(refreshing, { type: 'refresh_verified', result: { kind: 'unavailable', reason: 'timeout' }, id: 2 });
    assert.deepEqual(unavailable.state, authenticated);
    assert.deepEqual(unavailable.effects, [{ type: 'send', message: { type: 'error', id: 2, code: 'refresh_unavailable' } }]);
  });

  it('refresh results and session timers outside authenticated do nothing (a refresh frame there is an ordinary frame)', () => {
    const admitting = { phase: 'admitting', identity: alice, queue: [], queuedBytes: 0 };
    for (const state of [
      { phase: 'awaiting_ticket' },
      { phase: 'verifying', queue: [], queuedBytes: 0 },
      admitting,
      { phase: 'closed', code: 1000 },
    ] as ConnState[]) {
      for (const event of [
        { type: 'refresh_verified', result: { kind: 'ok', identity: alice } },
        { type: 'session_warning', exp: alice.exp },
        { type: 'session_expired', exp: alice.exp },
      ] as ConnEvent[]) {
        const t = run(state, event);
        assert.equal(t.state, state);
        assert.deepEqual(t.effects, []);
      }
    }
  });
});

describe('state machine: retry hints', () => {
  it('an unavailable verification with retryAfterMs puts the hint in the 1013 reason', () => {
    const verifying: ConnState = { phase: 'verifying', queue: [], queuedBytes: 0 };
    const t = run(verifying, { type: 'verified', result: { kind: 'unavailable', reason: 'circuit_open', retryAfterMs: 4200 } });
    assert.deepEqual(t.effects.at(-1), {
      type: 'close',
      code: 1013,
      reason: 'auth service unavailable; retry-after-ms=4200',
      cause: 'auth_unavailable',
    });
  });
});

// --- the driver -------------------------------------------------------------------------------------

class FakeSocket implements SocketPort {
  readonly sent: Record<string, unknown>[] = [];
  readonly closes: number[] = [];
  buffered = 0;
  outcome: SendOutcome = 'sent';
  send(text: string): SendOutcome {
    this.sent.push(JSON.parse(text));
    return this.outcome;
  }
  close(code: number): void {
    this.closes.push(code);
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  terminated = 0;
  terminate(): void {
    this.terminated++;
  }
}

const answer = (result: VerifyResult): Verifier => ({ verify: async () => result });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const frame = (value: unknown) => {
  const data = JSON.stringify(value);
  return { kind: 'text' as const, data, bytes: utf8ByteLength(data) };
};

function driver(
  options: { verifier?: Verifier; limits?: Partial<Limits>; admit?: Admit; now?: () => number; observer?: GatewayObserver } = {},
) {
  const socket = new FakeSocket();
  const closed: Connection[] = [];
  const connection = new Connection({
    id: 'c1',
    socket,
    verifier: options.verifier ?? answer({ kind: 'ok', identity: { ...alice, exp: Math.floor(Date.now() / 1000) + 3600 } }),
    handlers: builtinHandlers,
    limits: resolveLimits(options.limits),
    logger: silentLogger,
    origin: null,
    ip: '127.0.0.1',
    now: options.now ?? Date.now,
    sessionClock: new SessionClock(options.now ?? Date.now),
    admit: options.admit,
    observer: options.observer,
    onClosed: (c) => closed.push(c),
  });
  connection.open();
  return { socket, connection, closed };
}

async function authenticate(d: ReturnType<typeof driver>) {
  d.connection.receive(frame({ type: 'auth', ticket: 'first-ticket-0123456789' }));
  await sleep(10);
  assert.equal(d.socket.sent[0]?.type, 'auth.ok');
}

describe('driver: limits after auth', () => {
  it('a client over the message rate is closed 4429 and the excess is not dispatched', async () => {
    const d = driver({ limits: { messageRate: { perSecond: 1, burst: 5 } } });
    await authenticate(d); // the auth frame took one token
    for (let i = 0; i < 10; i++) d.connection.receive(frame({ type: 'echo', id: i, data: i }));
    await sleep(10);
    assert.deepEqual(d.socket.closes, [4429]);
    // The close is immediate: frames over the limit are never dispatched (and those still queued are cancelled).
    const echoed = d.socket.sent.filter((m) => m.type === 'echo').map((m) => m.id as number);
    assert.ok(
      echoed.every((id) => id < 4),
      `dispatched over the limit: ${echoed.join(',')}`,
    );
  });

  it('a reader whose send buffer is over the limit is closed 4413', async () => {
    const d = driver({ limits: { maxBufferedBytes: 2048 } });
    await authenticate(d);
    d.socket.buffered = 4096;
    d.connection.receive(frame({ type: 'echo', id: 1, data: 'x' }));
    await sleep(10);
    assert.deepEqual(d.socket.closes, [4413]);
    assert.equal(d.socket.terminated, 0, 'the close frame gets a grace period first');
    await sleep(1_100);
    assert.equal(d.socket.terminated, 1, 'then the connection is dropped, not left waiting for a reader that never reads');
  });

  it('a send the runtime dropped (Bun returns 0) is a slow consumer too', async () => {
    const d = driver();
    await authenticate(d);
    d.socket.outcome = 'dropped';
    d.connection.receive(frame({ type: 'ping', id: 1 }));
    await sleep(10);
    assert.deepEqual(d.socket.closes, [4413]);
  });

  it('a send the runtime reports written whole (Bun > 0) skips the buffer check; one it queued does not', async () => {
    const d = driver({ limits: { maxBufferedBytes: 2048 } });
    await authenticate(d);
    d.socket.buffered = 4096; // what a stale bufferedAmount would say
    d.socket.outcome = 12; // Bun: written whole, 12 bytes
    d.connection.receive(frame({ type: 'ping', id: 1 }));
    await sleep(10);
    assert.deepEqual(d.socket.closes, [], 'written whole: nothing is buffered, whatever the count says');
    d.socket.outcome = 'sent';
    d.connection.receive(frame({ type: 'ping', id: 2 }));
    await sleep(10);
    assert.deepEqual(d.socket.closes, [4413]);
  });

  it("bytes out: the count of a runtime that wrote the text whole (Bun), else the text's UTF-8 bytes; bytes in: the frame's", async () => {
    const counted: { in: number[]; out: number[] } = { in: [], out: [] };
    const d = driver({ observer: { messageIn: (n) => counted.in.push(n), messageOut: (n) => counted.out.push(n) } });
    await authenticate(d);
    counted.in.length = counted.out.length = 0;
    d.socket.outcome = 33; // what Bun says it wrote
    const first = frame({ type: 'echo', id: 1, data: 'é😀' });
    d.connection.receive(first);
    d.socket.outcome = 'sent'; // queued: the connection counts
    d.connection.receive(frame({ type: 'echo', id: 2, data: 'é😀' }));
    await sleep(10);
    const reply = JSON.stringify(d.socket.sent.at(-1));
    assert.deepEqual(counted.in, [first.bytes, first.bytes]);
    assert.deepEqual(counted.out, [33, Buffer.byteLength(reply)]);
    assert.equal(Buffer.byteLength(reply), reply.length + 3, 'é is 2 bytes (1 UTF-16 unit), 😀 4 (2 units)');
    d.connection.peerClosed(1000); // disarms the session clock
  });

  it('an authenticated frame is parsed once: a message for the handlers, and one the machine answers (invalid, refresh)', async () => {
    const d = driver();
    await authenticate(d);
    const texts = ['{"type":"ping","id":1}', '{"type":"echo","id":{}}', '{"type":"refresh","id":3}', '{"type":'];
    const parse = JSON.parse;
    const parsed: string[] = [];
    JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
      if (texts.includes(text)) parsed.push(text);
      return parse(text, reviver);
    }) as typeof JSON.parse;
    try {
      for (const data of texts) d.connection.receive({ kind: 'text', data, bytes: Buffer.byteLength(data) });
    } finally {
      JSON.parse = parse;
    }
    await sleep(10);
    assert.deepEqual(parsed, texts);
    assert.deepEqual(d.socket.sent.slice(1), [
      { type: 'pong', id: 1 },
      { type: 'error', code: 'invalid_message' },
      { type: 'error', id: 3, code: 'invalid_message' },
      { type: 'error', code: 'invalid_json' },
    ]);
    d.connection.peerClosed(1000);
  });

  it('an identity the admission refuses is closed with its code and never gets auth.ok', async () => {
    const d = driver({ admit: () => CloseCodes.userConnectionLimit });
    d.connection.receive(frame({ type: 'auth', ticket: 'first-ticket-0123456789' }));
    d.connection.receive(frame({ type: 'echo', id: 1, data: 'queued' }));
    await sleep(10);
    assert.deepEqual(d.socket.closes, [4430]);
    assert.deepEqual(d.socket.sent, []);
  });

  it('an admission check that throws fails closed (1013)', async () => {
    const d = driver({
      admit: () => {
        throw new Error('store down');
      },
    });
    d.connection.receive(frame({ type: 'auth', ticket: 'first-ticket-0123456789' }));
    await sleep(10);
    assert.deepEqual(d.socket.closes, [1013]);
  });
});

describe('driver: session lifetime', () => {
  it('warns before exp and closes 4410 at exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const d = driver({
      verifier: answer({ kind: 'ok', identity: { sub: 'alice', exp, claims: {} } }),
      limits: { sessionWarningMs: 1_000 },
    });
    await authenticate(d);
    await sleep(exp * 1000 - Date.now() + 150);
    const warning = d.socket.sent.find((m) => m.type === 'session.expiring');
    assert.ok(warning, 'session.expiring was sent');
    assert.ok(typeof warning.in === 'number' && warning.in <= 1_000 && warning.in > 0);
    assert.deepEqual(d.socket.closes, [4410]);
  });

  it('an in-band refresh for the same user moves exp and the session outlives the old one', async () => {
    const first = Math.floor(Date.now() / 1000) + 1;
    let calls = 0;
    const verifier: Verifier = {
      verify: async () => ({ kind: 'ok', identity: { sub: 'alice', exp: calls++ === 0 ? first : first + 60, claims: {} } }),
    };
    const d = driver({ verifier, limits: { sessionWarningMs: 0 } });
    await authenticate(d);
    d.connection.receive(frame({ type: 'refresh', id: 'r1', ticket: 'second-ticket-0123456789' }));
    await sleep(10);
    assert.deepEqual(d.socket.sent[1], { type: 'session.refreshed', id: 'r1', exp: first + 60 });
    await sleep(first * 1000 - Date.now() + 300);
    assert.deepEqual(d.socket.closes, [], 'not closed at the old exp');
    d.connection.close(CloseCodes.goingAway, 'test_end');
  });
});
