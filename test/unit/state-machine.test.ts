import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  initialState,
  transition,
  type ConnEvent,
  type ConnState,
  type Effect,
  type Transition,
} from '../../src/core/connection-machine.ts';
import type { Identity, VerifyResult } from '../../src/auth/verifier.ts';
import { CloseCodes } from '../../src/protocol/close-codes.ts';
import { resolveLimits } from '../../src/core/limits.ts';
import type { Frame, InboundMessage } from '../../src/protocol/messages.ts';
import { parseMessage, utf8ByteLength } from '../../src/protocol/parse.ts';

// Small limits so that every bound is reachable with short frames.
const limits = resolveLimits({
  authDeadlineMs: 1_000,
  verifyTimeoutMs: 1_000,
  maxAuthFrameBytes: 100,
  maxMessageBytes: 300,
  maxQueuedFrames: 3,
  maxQueuedBytes: 250,
  maxPendingEvents: 8,
});

const NOW = 1_700_000_000_000;
const TICKET = 'Tkt.SECRET_value-0123456789~abc';

const text = (data: string): Frame => ({ kind: 'text', data, bytes: utf8ByteLength(data) });
const binary = (bytes: number): Frame => ({ kind: 'binary', bytes });
const authFrame = (ticket: string = TICKET): Frame => text(JSON.stringify({ type: 'auth', ticket }));
const msg = (id: number, extra = ''): Frame => text(JSON.stringify({ type: 'echo', id, data: extra }));

const identity: Identity = { sub: 'alice', exp: NOW / 1000 + 3600, claims: { role: 'user' } };
const expiredIdentity: Identity = { sub: 'alice', exp: NOW / 1000, claims: {} };

// --- events --------------------------------------------------------------------------------------
const ev = {
  open: { type: 'open' } as ConnEvent,
  authOk: { type: 'frame', frame: authFrame() } as ConnEvent,
  invalidJson: { type: 'frame', frame: text('{"type":"auth","ticket":') } as ConnEvent,
  wrongType: { type: 'frame', frame: text(JSON.stringify({ type: 'login', ticket: TICKET })) } as ConnEvent,
  missingTicket: { type: 'frame', frame: text('{"type":"auth"}') } as ConnEvent,
  badChars: { type: 'frame', frame: authFrame('bad ticket <with> spaces!!') } as ConnEvent,
  // Valid auth JSON, just over maxAuthFrameBytes (100) but under maxMessageBytes (300).
  oversizedAuth: { type: 'frame', frame: authFrame('A'.repeat(120)) } as ConnEvent,
  binary: { type: 'frame', frame: binary(10) } as ConnEvent,
  message: { type: 'frame', frame: msg(1) } as ConnEvent,
  // Over maxMessageBytes (300).
  hugeMessage: { type: 'frame', frame: msg(2, 'x'.repeat(400)) } as ConnEvent,
  verifiedOk: { type: 'verified', result: { kind: 'ok', identity } } as ConnEvent,
  verifiedRejected: { type: 'verified', result: { kind: 'rejected', reason: 'reused' } } as ConnEvent,
  verifiedUnavailable: { type: 'verified', result: { kind: 'unavailable', reason: 'timeout' } } as ConnEvent,
  verifiedExpired: { type: 'verified', result: { kind: 'ok', identity: expiredIdentity } } as ConnEvent,
  admitted: { type: 'admitted' } as ConnEvent,
  admissionRefused: { type: 'admission_refused', close: CloseCodes.userConnectionLimit, limit: 'user_connections' } as ConnEvent,
  authDeadline: { type: 'auth_deadline' } as ConnEvent,
  closeRequested: { type: 'close_requested', close: CloseCodes.goingAway, cause: 'shutdown' } as ConnEvent,
  peerClosed: { type: 'peer_closed', code: 1006 } as ConnEvent,
} satisfies Record<string, ConnEvent>;

const allEvents = Object.entries(ev) as [string, ConnEvent][];

// Sanity for the fixtures themselves, so a test below cannot pass by accident.
assert.ok(ev.oversizedAuth.type === 'frame' && ev.oversizedAuth.frame.bytes > limits.maxAuthFrameBytes);
assert.ok(ev.oversizedAuth.type === 'frame' && ev.oversizedAuth.frame.bytes <= limits.maxMessageBytes);
assert.ok(ev.hugeMessage.type === 'frame' && ev.hugeMessage.frame.bytes > limits.maxMessageBytes);

// --- states --------------------------------------------------------------------------------------
const q1 = msg(10);
const q2 = msg(11);
const verifyingEmpty: ConnState = { phase: 'verifying', queue: [], queuedBytes: 0 };
const verifyingQueued: ConnState = { phase: 'verifying', queue: [q1, q2], queuedBytes: q1.bytes + q2.bytes };
const admittingQueued: ConnState = { phase: 'admitting', identity, queue: [q1, q2], queuedBytes: q1.bytes + q2.bytes };
const authenticated: ConnState = { phase: 'authenticated', identity, refreshing: false };
const closed: ConnState = { phase: 'closed', code: 4401 };

const allStates: [string, ConnState][] = [
  ['awaiting_ticket', initialState],
  ['verifying(empty)', verifyingEmpty],
  ['verifying(queued)', verifyingQueued],
  ['admitting(queued)', admittingQueued],
  ['authenticated', authenticated],
  ['closed', closed],
];

const run = (state: ConnState, event: ConnEvent, now = NOW): Transition => transition(state, event, now, limits);

const close = (info: { code: number; reason: string }, cause: string): Effect => ({
  type: 'close',
  code: info.code,
  reason: info.reason,
  cause,
});
const disarm: Effect = { type: 'disarm_auth_deadline' };
/** What an authenticated frame becomes: the parsed message for the handlers, or an error reply. */
function handled(frame: Frame): Effect {
  if (frame.kind !== 'text') return { type: 'send', message: { type: 'error', code: 'binary_unsupported' } };
  const parsed = parseMessage(frame.data);
  if (!parsed.ok) return { type: 'send', message: { type: 'error', id: parsed.id, code: parsed.code } };
  return { type: 'dispatch', message: parsed.message };
}

function assertNoTicketInCloses(t: Transition): void {
  for (const e of t.effects) {
    if (e.type === 'close') {
      assert.ok(!e.reason.includes(TICKET), `close reason leaks ticket: ${e.reason}`);
      assert.ok(!e.cause.includes(TICKET), `close cause leaks ticket: ${e.cause}`);
    }
    if (e.type === 'audit') assert.ok(!JSON.stringify(e).includes(TICKET), 'audit effect leaks ticket');
  }
}

describe('state machine: awaiting_ticket', () => {
  const s = initialState;

  it('open arms the auth deadline and stays', () => {
    assert.deepEqual(run(s, ev.open), { state: { phase: 'awaiting_ticket' }, effects: [{ type: 'arm_auth_deadline' }] });
  });

  it('a valid auth frame moves to verifying with an empty queue and asks to verify the ticket', () => {
    assert.deepEqual(run(s, ev.authOk), {
      state: { phase: 'verifying', queue: [], queuedBytes: 0 },
      effects: [disarm, { type: 'verify', ticket: TICKET, purpose: 'auth' }],
    });
  });

  for (const name of ['invalidJson', 'wrongType', 'missingTicket', 'badChars', 'message'] as const) {
    it(`${name} as first frame closes 1008 (invalid_auth_frame)`, () => {
      const t = run(s, ev[name]);
      assert.deepEqual(t, {
        state: { phase: 'closed', code: 1008 },
        effects: [disarm, close(CloseCodes.policyViolation, 'invalid_auth_frame')],
      });
    });
  }

  it('an oversized auth frame closes 1009 (auth_frame_too_big), before parsing', () => {
    assert.deepEqual(run(s, ev.oversizedAuth), {
      state: { phase: 'closed', code: 1009 },
      effects: [disarm, close(CloseCodes.tooBig, 'auth_frame_too_big')],
    });
  });

  it('an auth frame of exactly maxAuthFrameBytes is accepted', () => {
    const base = JSON.stringify({ type: 'auth', ticket: '' }).length;
    const f = authFrame('B'.repeat(limits.maxAuthFrameBytes - base));
    assert.equal(f.bytes, limits.maxAuthFrameBytes);
    assert.equal(run(s, { type: 'frame', frame: f }).state.phase, 'verifying');
  });

  it('a binary first frame closes 1008 (binary_auth_frame)', () => {
    assert.deepEqual(run(s, ev.binary), {
      state: { phase: 'closed', code: 1008 },
      effects: [disarm, close(CloseCodes.policyViolation, 'binary_auth_frame')],
    });
  });

  for (const name of [
    'verifiedOk',
    'verifiedRejected',
    'verifiedUnavailable',
    'verifiedExpired',
    'admitted',
    'admissionRefused',
  ] as const) {
    it(`${name} before any auth frame is ignored`, () => {
      const t = run(s, ev[name]);
      assert.equal(t.state, s);
      assert.deepEqual(t.effects, []);
    });
  }

  it('auth_deadline closes 4408', () => {
    assert.deepEqual(run(s, ev.authDeadline), {
      state: { phase: 'closed', code: 4408 },
      effects: [close(CloseCodes.authTimeout, 'auth_deadline')],
    });
  });

  it('close_requested closes with the requested code and cause', () => {
    assert.deepEqual(run(s, ev.closeRequested), {
      state: { phase: 'closed', code: 1001 },
      effects: [disarm, close(CloseCodes.goingAway, 'shutdown')],
    });
  });

  it('peer_closed moves to closed with the peer code and only disarms', () => {
    assert.deepEqual(run(s, ev.peerClosed), { state: { phase: 'closed', code: 1006 }, effects: [disarm] });
  });
});

for (const [label, s] of [
  ['verifying(empty)', verifyingEmpty],
  ['verifying(queued)', verifyingQueued],
] as const) {
  if (s.phase !== 'verifying') throw new Error('fixture');
  describe(`state machine: ${label}`, () => {
    it('open is ignored', () => {
      const t = run(s, ev.open);
      assert.equal(t.state, s);
      assert.deepEqual(t.effects, []);
    });

    // In verifying every frame within size bounds is just queued, whatever it contains.
    for (const name of ['authOk', 'invalidJson', 'wrongType', 'missingTicket', 'badChars', 'oversizedAuth', 'binary', 'message'] as const) {
      it(`frame ${name} is queued (no effects)`, () => {
        const event = ev[name];
        if (event.type !== 'frame') throw new Error('fixture');
        const t = run(s, event);
        assert.deepEqual(t.effects, []);
        assert.deepEqual(t.state, {
          phase: 'verifying',
          queue: [...s.queue, event.frame],
          queuedBytes: s.queuedBytes + event.frame.bytes,
        });
        assert.equal(s.queue.length, label === 'verifying(empty)' ? 0 : 2, 'input state must not be mutated');
      });
    }

    it('a frame over maxMessageBytes closes 1009 (message_too_big)', () => {
      assert.deepEqual(run(s, ev.hugeMessage), {
        state: { phase: 'closed', code: 1009 },
        effects: [close(CloseCodes.tooBig, 'message_too_big')],
      });
    });

    it('verified ok → admitting, keeping the queue; asks the per-user cap (no auth.ok yet)', () => {
      const t = run(s, ev.verifiedOk);
      assert.deepEqual(t.state, { phase: 'admitting', identity, queue: s.queue, queuedBytes: s.queuedBytes });
      assert.deepEqual(t.effects, [{ type: 'admit', identity }]);
    });

    it('verified ok, then admitted → authenticated; audit, auth.ok {sub,exp}, then the queue handled in order', () => {
      const t = run(run(s, ev.verifiedOk).state, ev.admitted);
      assert.deepEqual(t.state, { phase: 'authenticated', identity, refreshing: false });
      assert.deepEqual(t.effects, [
        { type: 'audit', event: 'auth.ok', fields: { sub: 'alice', exp: identity.exp } },
        { type: 'send', message: { type: 'auth.ok', sub: 'alice', exp: identity.exp } },
        { type: 'arm_session_timers', exp: identity.exp },
        ...s.queue.map(handled),
      ]);
    });

    it('verified ok, then admission refused → closed with its code, queue discarded, limit.hit audited', () => {
      const t = run(run(s, ev.verifiedOk).state, ev.admissionRefused);
      assert.deepEqual(t, {
        state: { phase: 'closed', code: 4430 },
        effects: [
          { type: 'audit', event: 'limit.hit', fields: { limit: 'user_connections', code: 4430 }, level: 'warn' },
          close(CloseCodes.userConnectionLimit, 'admission_refused'),
        ],
      });
    });

    it('verified rejected → 4401, queue discarded (never dispatched)', () => {
      assert.deepEqual(run(s, ev.verifiedRejected), {
        state: { phase: 'closed', code: 4401 },
        effects: [
          { type: 'audit', event: 'auth.rejected', fields: { reason: 'reused', discarded: s.queue.length } },
          close(CloseCodes.ticketRejected, 'ticket_rejected'),
        ],
      });
    });

    it('verified unavailable → 1013, queue discarded (never dispatched)', () => {
      assert.deepEqual(run(s, ev.verifiedUnavailable), {
        state: { phase: 'closed', code: 1013 },
        effects: [
          { type: 'audit', event: 'auth.unavailable', fields: { reason: 'timeout', discarded: s.queue.length } },
          close(CloseCodes.tryAgainLater, 'auth_unavailable'),
        ],
      });
    });

    it('verified ok but expired (exp*1000 <= now) → 4401 session_expired, nothing dispatched', () => {
      assert.deepEqual(run(s, ev.verifiedExpired), {
        state: { phase: 'closed', code: 4401 },
        effects: [
          { type: 'audit', event: 'auth.rejected', fields: { reason: 'session_expired', discarded: s.queue.length } },
          close(CloseCodes.ticketRejected, 'ticket_rejected'),
        ],
      });
      // Strictly in the past as well.
      assert.equal(run(s, ev.verifiedExpired, NOW + 1).state.phase, 'closed');
      // One millisecond before exp*1000 the session is still valid.
      assert.equal(run(s, ev.verifiedExpired, NOW - 1).state.phase, 'admitting');
    });

    it('auth_deadline is ignored (the deadline only covers the first frame)', () => {
      const t = run(s, ev.authDeadline);
      assert.equal(t.state, s);
      assert.deepEqual(t.effects, []);
    });

    it('close_requested closes with the requested code, queue discarded', () => {
      assert.deepEqual(run(s, ev.closeRequested), {
        state: { phase: 'closed', code: 1001 },
        effects: [disarm, close(CloseCodes.goingAway, 'shutdown')],
      });
    });

    it('peer_closed → closed with the peer code', () => {
      assert.deepEqual(run(s, ev.peerClosed), { state: { phase: 'closed', code: 1006 }, effects: [disarm] });
    });
  });
}

describe('state machine: verifying queue bounds', () => {
  it('maxQueuedFrames: the (max+1)th frame closes 1008 queue_overflow', () => {
    let s: ConnState = verifyingEmpty;
    for (let i = 0; i < limits.maxQueuedFrames; i++) {
      const t = run(s, { type: 'frame', frame: msg(i) });
      assert.deepEqual(t.effects, []);
      s = t.state;
    }
    assert.equal(s.phase === 'verifying' && s.queue.length, limits.maxQueuedFrames);
    assert.deepEqual(run(s, { type: 'frame', frame: msg(99) }), {
      state: { phase: 'closed', code: 1008 },
      effects: [close(CloseCodes.policyViolation, 'queue_overflow')],
    });
  });

  it('maxQueuedBytes: exactly at the bound is fine, one byte over closes 1008 queue_overflow', () => {
    const first = binary(150);
    const s1 = run(verifyingEmpty, { type: 'frame', frame: first }).state;
    const atBound = run(s1, { type: 'frame', frame: binary(limits.maxQueuedBytes - 150) });
    assert.deepEqual(atBound.effects, []);
    assert.equal(atBound.state.phase === 'verifying' && atBound.state.queuedBytes, limits.maxQueuedBytes);
    assert.deepEqual(run(s1, { type: 'frame', frame: binary(limits.maxQueuedBytes - 150 + 1) }), {
      state: { phase: 'closed', code: 1008 },
      effects: [close(CloseCodes.policyViolation, 'queue_overflow')],
    });
  });
});

describe('state machine: authenticated', () => {
  const s = authenticated;

  it('open is ignored', () => {
    const t = run(s, ev.open);
    assert.equal(t.state, s);
    assert.deepEqual(t.effects, []);
  });

  for (const name of ['authOk', 'wrongType', 'missingTicket', 'badChars', 'oversizedAuth', 'message'] as const) {
    it(`frame ${name} is parsed and dispatched (the handler table decides how to answer its type)`, () => {
      const event = ev[name];
      if (event.type !== 'frame' || event.frame.kind !== 'text') throw new Error('fixture');
      const t = run(s, event);
      assert.equal(t.state, s);
      assert.deepEqual(t.effects, [{ type: 'dispatch', message: JSON.parse(event.frame.data) as InboundMessage }]);
    });
  }

  it('invalid JSON and binary frames get an error reply; the socket stays open', () => {
    for (const event of [ev.invalidJson, ev.binary]) {
      if (event.type !== 'frame') throw new Error('fixture');
      const t = run(s, event);
      assert.equal(t.state, s);
      assert.equal(t.effects.length, 1);
      const [effect] = t.effects;
      assert.ok(effect?.type === 'send' && effect.message.type === 'error');
      assert.equal(effect.message.code, event === ev.binary ? 'binary_unsupported' : 'invalid_json');
    }
  });

  it("refresh is the protocol's own: never dispatched to a handler", () => {
    const refresh = text(JSON.stringify({ type: 'refresh', id: 5, ticket: TICKET }));
    assert.deepEqual(run(s, { type: 'frame', frame: refresh }), {
      state: { ...s, refreshing: true },
      effects: [{ type: 'verify', ticket: TICKET, purpose: 'refresh', id: 5 }],
    });
  });

  it('a frame over maxMessageBytes closes 1009 (message_too_big)', () => {
    assert.deepEqual(run(s, ev.hugeMessage), {
      state: { phase: 'closed', code: 1009 },
      effects: [close(CloseCodes.tooBig, 'message_too_big')],
    });
  });

  for (const name of [
    'verifiedOk',
    'verifiedRejected',
    'verifiedUnavailable',
    'verifiedExpired',
    'authDeadline',
    'admitted',
    'admissionRefused',
  ] as const) {
    it(`${name} is ignored`, () => {
      const t = run(s, ev[name]);
      assert.equal(t.state, s);
      assert.deepEqual(t.effects, []);
    });
  }

  it('close_requested closes with the requested code', () => {
    assert.deepEqual(run(s, ev.closeRequested), {
      state: { phase: 'closed', code: 1001 },
      effects: [disarm, close(CloseCodes.goingAway, 'shutdown')],
    });
  });

  it('peer_closed → closed with the peer code', () => {
    assert.deepEqual(run(s, ev.peerClosed), { state: { phase: 'closed', code: 1006 }, effects: [disarm] });
  });
});

describe('state machine: closed absorbs everything', () => {
  for (const [name, event] of allEvents) {
    it(`${name} → same state, no effects`, () => {
      const t = run(closed, event);
      assert.equal(t.state, closed);
      assert.deepEqual(t.effects, []);
    });
  }
});

describe('state machine: invariants over every state × event', () => {
  it('dispatch only into authenticated; closes use known codes; nothing leaks the ticket', () => {
    const knownCodes = new Set(Object.values(CloseCodes).map((c) => c.code));
    let checked = 0;
    for (const [stateName, s] of allStates) {
      for (const [eventName, event] of allEvents) {
        const t = run(s, event);
        const where = `${stateName} × ${eventName}`;
        const dispatches = t.effects.filter((e) => e.type === 'dispatch');
        if (dispatches.length > 0) {
          assert.equal(t.state.phase, 'authenticated', `dispatch outside authenticated at ${where}`);
          assert.ok(s.phase === 'authenticated' || (s.phase === 'admitting' && event.type === 'admitted'), where);
        }
        const closes = t.effects.filter((e) => e.type === 'close');
        assert.ok(closes.length <= 1, `at most one close at ${where}`);
        for (const c of closes) {
          assert.equal(t.state.phase, 'closed', where);
          assert.ok(knownCodes.has(c.code), `unknown close code ${c.code} at ${where}`);
          assert.equal(t.state.phase === 'closed' && t.state.code, c.code, where);
        }
        if (s.phase === 'closed') assert.deepEqual(t.effects, [], where);
        assertNoTicketInCloses(t);
        checked++;
      }
    }
    assert.equal(checked, allStates.length * allEvents.length);
  });

  it('random walks: frames accepted after the auth frame are dispatched exactly once, in order, only after ok', () => {
    // Deterministic PRNG (mulberry32) so failures are reproducible.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    let nextId = 1000;
    const eventPool: (() => ConnEvent)[] = [
      () => ({ type: 'frame', frame: msg(nextId++) }),
      () => ({ type: 'frame', frame: msg(nextId++) }),
      () => ({ type: 'frame', frame: msg(nextId++) }),
      () => ev.authOk,
      () => ev.binary,
      () => ev.open,
      () => ev.verifiedOk,
      () => ev.verifiedRejected,
      () => ev.verifiedUnavailable,
      () => ev.verifiedExpired,
      () => ev.admitted,
      () => ev.admitted,
      () => ev.admissionRefused,
      () => ev.authDeadline,
      () => ev.invalidJson,
    ];
    const outcomes = new Map<string, number>();
    for (let walk = 0; walk < 2_000; walk++) {
      let state: ConnState = initialState;
      const accepted: Effect[] = []; // what each frame received while verifying, admitting or authenticated must become, in order
      const handledFrames: Effect[] = [];
      let okSeen = false;
      for (let step = 0; step < 12 && state.phase !== 'closed'; step++) {
        const event = pick(eventPool)();
        const before = state;
        const t = run(state, event);
        state = t.state;
        for (const e of t.effects) {
          if (e.type === 'dispatch') {
            assert.equal(state.phase, 'authenticated', 'dispatch outside authenticated');
            handledFrames.push(e);
          }
          if (e.type === 'send') {
            assert.equal(state.phase, 'authenticated');
            if (e.message.type === 'error') handledFrames.push(e);
          }
        }
        assertNoTicketInCloses(t);
        if (before.phase === 'admitting' && state.phase === 'authenticated') okSeen = true;
        const receiving = before.phase === 'verifying' || before.phase === 'admitting' || before.phase === 'authenticated';
        if (event.type === 'frame' && receiving && state.phase !== 'closed') accepted.push(handled(event.frame));
      }
      if (!okSeen) assert.deepEqual(handledFrames, [], 'nothing may be dispatched or answered without verified ok and admission');
      else assert.deepEqual(handledFrames, accepted, 'every accepted frame is handled once, in arrival order');
      const key = state.phase === 'closed' ? `closed:${state.code}` : state.phase;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    // The walk must actually have exercised the interesting paths.
    for (const key of ['authenticated', 'closed:4401', 'closed:1013', 'closed:1008', 'closed:4430']) {
      assert.ok((outcomes.get(key) ?? 0) > 0, `walks never reached ${key}: ${JSON.stringify([...outcomes])}`);
    }
  });

  it('verified results other than ok, and a refused admission, never dispatch the queue', () => {
    const results: VerifyResult[] = [
      { kind: 'rejected', reason: 'unknown' },
      { kind: 'unavailable', reason: 'status_500' },
      { kind: 'ok', identity: expiredIdentity },
    ];
    for (const result of results) {
      const t = run(verifyingQueued, { type: 'verified', result });
      assert.equal(t.state.phase, 'closed');
      assert.deepEqual(
        t.effects.filter((e) => e.type === 'dispatch' || e.type === 'send'),
        [],
      );
    }
    const refused = run(admittingQueued, ev.admissionRefused);
    assert.equal(refused.state.phase, 'closed');
    assert.deepEqual(
      refused.effects.filter((e) => e.type === 'dispatch' || e.type === 'send'),
      [],
    );
  });
});
