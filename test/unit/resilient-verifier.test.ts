import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Verifier, VerifyRequest, VerifyResult } from '../../src/auth/verifier.ts';
import { withResilience, type BreakerState, type ResilienceOptions } from '../../src/auth/verifiers/resilient.ts';

const REQUEST: VerifyRequest = { ticket: 'Tkt.abcdefghijklmnop', origin: 'https://app.example', ip: '203.0.113.7' };
const OK: VerifyResult = { kind: 'ok', identity: { sub: 'alice', exp: 1_767_225_600, claims: {} } };
const REJECTED: VerifyResult = { kind: 'rejected', reason: 'unknown_ticket' };
const DOWN: VerifyResult = { kind: 'unavailable', reason: 'status_503' };

type Answer = VerifyResult | 'throw' | 'throw_sync' | 'hang';

/**
 * A scripted inner verifier: each call takes the next answer (or waits for `release` when the
 * script says 'pending'). Counts calls so "fail fast" can be proven.
 */
function fakeInner(answer: () => Answer | 'pending' = () => OK) {
  const pending: ((result: VerifyResult | 'throw') => void)[] = [];
  let calls = 0;
  const verifier: Verifier = {
    verify(): Promise<VerifyResult> {
      calls++;
      const a = answer();
      if (a === 'throw_sync') throw new Error('boom (sync)');
      if (a === 'throw') return Promise.reject(new Error('boom'));
      if (a === 'hang') return new Promise(() => {});
      if (a === 'pending') {
        return new Promise((resolve, reject) => pending.push((r) => (r === 'throw' ? reject(new Error('boom')) : resolve(r))));
      }
      return Promise.resolve(a);
    },
  };
  return {
    verifier,
    get calls() {
      return calls;
    },
    /** Settles the oldest pending call. */
    release(result: VerifyResult | 'throw') {
      const next = pending.shift();
      assert.ok(next, 'a pending call to release');
      next(result);
    },
  };
}

function setup(inner: Verifier, overrides: Partial<ResilienceOptions> = {}) {
  const clock = { t: 1_000_000 };
  const states: BreakerState[] = [];
  const v = withResilience(inner, {
    maxInFlight: 4,
    failureThreshold: 3,
    coolDownMs: 10_000,
    now: () => clock.t,
    onStateChange: (s) => states.push(s),
    ...overrides,
  });
  return { v, clock, states };
}

/** Lets queued promise callbacks run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('withResilience: concurrency cap', () => {
  it('more than maxInFlight at once → overloaded immediately, inner not called', async () => {
    const inner = fakeInner(() => 'pending');
    const { v } = setup(inner.verifier, { maxInFlight: 2 });
    const first = v.verify(REQUEST);
    const second = v.verify(REQUEST);
    assert.equal(v.inFlight, 2);
    assert.deepEqual(await v.verify(REQUEST), { kind: 'unavailable', reason: 'overloaded' });
    assert.equal(inner.calls, 2);
    inner.release(OK);
    assert.deepEqual(await first, OK);
    // A slot is free again.
    const third = v.verify(REQUEST);
    assert.equal(inner.calls, 3);
    inner.release(REJECTED);
    inner.release(OK);
    assert.deepEqual(await second, REJECTED);
    assert.deepEqual(await third, OK);
    assert.equal(v.inFlight, 0);
  });

  it('overloaded refusals do not count towards the breaker', async () => {
    const inner = fakeInner(() => 'pending');
    const { v } = setup(inner.verifier, { maxInFlight: 1, failureThreshold: 1 });
    const first = v.verify(REQUEST);
    for (let i = 0; i < 5; i++) assert.equal(((await v.verify(REQUEST)) as { reason: string }).reason, 'overloaded');
    assert.equal(v.state, 'closed');
    inner.release(OK);
    await first;
  });
});

describe('withResilience: circuit breaker', () => {
  it('failureThreshold consecutive unavailable results open it; then it fails fast without calling inner', async () => {
    const inner = fakeInner(() => DOWN);
    const { v, clock, states } = setup(inner.verifier);
    for (let i = 0; i < 3; i++) assert.deepEqual(await v.verify(REQUEST), DOWN);
    assert.equal(v.state, 'open');
    assert.deepEqual(states, ['open']);
    assert.equal(inner.calls, 3);
    clock.t += 4_000;
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(await v.verify(REQUEST), { kind: 'unavailable', reason: 'circuit_open', retryAfterMs: 6_000 });
    }
    assert.equal(inner.calls, 3, 'inner is not called while open');
    assert.equal(v.retryAfterMs(), 6_000);
    assert.equal(v.inFlight, 0);
  });

  it('rejected counts as a success: it resets the consecutive-failure count', async () => {
    const script: Answer[] = [DOWN, DOWN, REJECTED, DOWN, DOWN, OK, DOWN, DOWN];
    const inner = fakeInner(() => script.shift() ?? DOWN);
    const { v } = setup(inner.verifier);
    for (let i = 0; i < 8; i++) await v.verify(REQUEST);
    assert.equal(v.state, 'closed', 'never three failures in a row');
    await v.verify(REQUEST);
    assert.equal(v.state, 'open');
  });

  it('after coolDownMs it is half-open: exactly one trial goes through, the rest fail fast', async () => {
    let answer: Answer | 'pending' = DOWN;
    const inner = fakeInner(() => answer);
    const { v, clock, states } = setup(inner.verifier);
    for (let i = 0; i < 3; i++) await v.verify(REQUEST);
    clock.t += 10_000;
    assert.equal(v.retryAfterMs(), 0);
    assert.equal(v.state, 'half_open');
    answer = 'pending';
    const trial = v.verify(REQUEST);
    const others = await Promise.all([v.verify(REQUEST), v.verify(REQUEST), v.verify(REQUEST)]);
    for (const r of others) assert.deepEqual(r, { kind: 'unavailable', reason: 'circuit_open' });
    assert.equal(inner.calls, 4, 'only the trial reached inner');
    assert.equal(v.inFlight, 1);
    inner.release(OK);
    assert.deepEqual(await trial, OK);
    assert.deepEqual(states, ['open', 'half_open', 'closed']);
  });

  for (const [name, outcome] of [
    ['ok', OK],
    ['rejected', REJECTED],
  ] as const) {
    it(`a trial answered ${name} closes it; calls flow again`, async () => {
      let answer: Answer = DOWN;
      const inner = fakeInner(() => answer);
      const { v, clock } = setup(inner.verifier);
      for (let i = 0; i < 3; i++) await v.verify(REQUEST);
      clock.t += 10_000;
      answer = outcome;
      assert.deepEqual(await v.verify(REQUEST), outcome);
      assert.equal(v.state, 'closed');
      answer = OK;
      assert.deepEqual(await Promise.all([v.verify(REQUEST), v.verify(REQUEST)]), [OK, OK]);
      // The count starts afresh: two failures do not reopen it.
      answer = DOWN;
      await v.verify(REQUEST);
      await v.verify(REQUEST);
      assert.equal(v.state, 'closed');
    });
  }

  for (const failure of [DOWN, 'throw'] as const) {
    it(`a trial that fails (${failure === 'throw' ? 'throws' : 'unavailable'}) reopens it for another cool-down`, async () => {
      const inner = fakeInner(() => failure);
      const { v, clock, states } = setup(inner.verifier);
      for (let i = 0; i < 3; i++) await v.verify(REQUEST);
      clock.t += 10_000;
      assert.equal((await v.verify(REQUEST)).kind, 'unavailable');
      assert.equal(v.state, 'open');
      assert.equal(v.retryAfterMs(), 10_000);
      const calls = inner.calls;
      assert.equal(((await v.verify(REQUEST)) as { reason: string }).reason, 'circuit_open');
      assert.equal(inner.calls, calls);
      assert.deepEqual(states, ['open', 'half_open', 'open']);
    });
  }

  it('a late failure from before the breaker opened does not reopen it after a good trial', async () => {
    let answer: Answer | 'pending' = 'pending';
    const inner = fakeInner(() => answer);
    const { v, clock } = setup(inner.verifier, { failureThreshold: 1 });
    const slow = v.verify(REQUEST);
    answer = DOWN;
    await v.verify(REQUEST);
    assert.equal(v.state, 'open');
    clock.t += 10_000;
    answer = OK;
    await v.verify(REQUEST);
    assert.equal(v.state, 'closed');
    inner.release(DOWN);
    assert.deepEqual(await slow, DOWN);
    assert.equal(v.state, 'closed', 'stale result ignored');
  });
});

describe('withResilience: probe and retryNow (readiness follows the breaker)', () => {
  const PROBE: VerifyRequest = { ticket: 'probe-ticket-that-cannot-exist', origin: null, ip: null };
  /** An inner that answers per ticket: the probe's ticket and everyone else's are told apart. */
  function byTicket(answer: { probe: () => Answer | 'pending'; client: () => Answer | 'pending' }) {
    const seen: string[] = [];
    const inner = fakeInner(() => (seen.at(-1) === PROBE.ticket ? answer.probe() : answer.client()));
    const verifier: Verifier = {
      verify(request) {
        seen.push(request.ticket);
        return inner.verifier.verify(request);
      },
    };
    return { verifier, seen, inner };
  }

  it('retryNow() after an outage: the probe is the trial, a rejected probe closes the breaker, and the next client verification goes through', async () => {
    let down = true;
    const { verifier, seen } = byTicket({ probe: () => (down ? DOWN : REJECTED), client: () => (down ? DOWN : OK) });
    const { v, states } = setup(verifier, { probe: () => PROBE });
    try {
      for (let i = 0; i < 3; i++) await v.verify(REQUEST);
      assert.equal(v.state, 'open');
      v.retryNow(); // the dependency says it is back, but it is not yet
      await flush();
      assert.equal(v.state, 'open', 'a failed probe reopens it');
      down = false;
      v.retryNow();
      await flush();
      assert.equal(v.state, 'closed', 'well before the cool-down ends');
      assert.deepEqual(states, ['open', 'half_open', 'open', 'half_open', 'closed']);
      assert.deepEqual(await v.verify(REQUEST), OK);
      assert.deepEqual(seen, [REQUEST.ticket, REQUEST.ticket, REQUEST.ticket, PROBE.ticket, PROBE.ticket, REQUEST.ticket]);
    } finally {
      v.close();
    }
  });

  it('while the probe runs, client verifications fail fast; none of them is the trial', async () => {
    const { verifier, inner } = byTicket({ probe: () => 'pending', client: () => DOWN });
    const { v } = setup(verifier, { probe: () => PROBE });
    try {
      for (let i = 0; i < 3; i++) await v.verify(REQUEST);
      v.retryNow();
      assert.equal(v.state, 'half_open');
      const calls = inner.calls;
      assert.deepEqual(await v.verify(REQUEST), { kind: 'unavailable', reason: 'circuit_open' });
      v.retryNow(); // a second signal while the probe runs starts nothing
      assert.equal(inner.calls, calls);
      inner.release(REJECTED);
      await flush();
      assert.equal(v.state, 'closed');
    } finally {
      v.close();
    }
  });

  it('with a probe, the end of the cool-down runs the probe by itself (nobody has to send a socket)', async () => {
    let down = true;
    const { verifier, seen } = byTicket({ probe: () => (down ? DOWN : REJECTED), client: () => DOWN });
    const { v, states } = setup(verifier, { probe: () => PROBE, coolDownMs: 20, now: Date.now });
    try {
      for (let i = 0; i < 3; i++) await v.verify(REQUEST);
      down = false;
      const deadline = Date.now() + 5_000;
      while (v.state !== 'closed' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(v.state, 'closed');
      assert.deepEqual(states, ['open', 'half_open', 'closed']);
      assert.deepEqual(seen.slice(3), [PROBE.ticket]);
    } finally {
      v.close();
    }
  });

  it('a lazy look after the cool-down (the readiness check) starts the probe rather than waiting for a client', async () => {
    const { verifier, seen } = byTicket({ probe: () => REJECTED, client: () => DOWN });
    const { v, clock } = setup(verifier, { probe: () => PROBE });
    try {
      for (let i = 0; i < 3; i++) await v.verify(REQUEST);
      clock.t += 10_000; // the fake clock only: the real cool-down timer is still 10 s away

      assert.equal(v.state, 'half_open');
      await flush();
      assert.equal(v.state, 'closed');
      assert.deepEqual(seen.slice(3), [PROBE.ticket]);
    } finally {
      v.close();
    }
  });

  it('a probe that cannot be built counts as a failed trial, never an unhandled rejection', async () => {
    const inner = fakeInner(() => DOWN);
    const { v } = setup(inner.verifier, {
      probe: () => {
        throw new Error('no probe');
      },
    });
    try {
      for (let i = 0; i < 3; i++) await v.verify(REQUEST);
      v.retryNow();
      await flush();
      assert.equal(v.state, 'open');
    } finally {
      v.close();
    }
  });

  it('without a probe, retryNow() half-opens the breaker so the next verification is the trial', async () => {
    let answer: Answer = DOWN;
    const inner = fakeInner(() => answer);
    const { v, states } = setup(inner.verifier);
    for (let i = 0; i < 3; i++) await v.verify(REQUEST);
    v.retryNow();
    assert.equal(v.state, 'half_open');
    answer = OK;
    assert.deepEqual(await v.verify(REQUEST), OK);
    assert.deepEqual(states, ['open', 'half_open', 'closed']);
    v.retryNow(); // closed: nothing to do
    assert.deepEqual(states, ['open', 'half_open', 'closed']);
  });
});

describe('withResilience: failing closed', () => {
  for (const kind of ['throw', 'throw_sync'] as const) {
    it(`an inner that throws (${kind === 'throw' ? 'rejected promise' : 'synchronously'}) is unavailable, counts as a failure, never throws out`, async () => {
      const inner = fakeInner(() => kind);
      const { v } = setup(inner.verifier);
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await v.verify(REQUEST), { kind: 'unavailable', reason: 'verifier_error' });
      }
      assert.equal(v.state, 'open');
      assert.equal(v.inFlight, 0);
    });
  }

  it('a malformed answer is unavailable, never ok', async () => {
    const weird = [undefined, null, {}, { kind: 'ok' }, { kind: 'OK', identity: {} }, 'ok'];
    const inner: Verifier = { verify: async () => weird.shift() as unknown as VerifyResult };
    const { v } = setup(inner, { failureThreshold: 100 });
    for (let i = 0; i < 6; i++) assert.deepEqual(await v.verify(REQUEST), { kind: 'unavailable', reason: 'bad_result' });
  });

  it('an inner that never settles times out, frees its slot and counts as a failure', async () => {
    const inner = fakeInner(() => 'hang');
    const { v } = setup(inner.verifier, { maxInFlight: 1, failureThreshold: 2, timeoutMs: 20 });
    const first = v.verify(REQUEST);
    assert.equal(((await v.verify(REQUEST)) as { reason: string }).reason, 'overloaded');
    assert.deepEqual(await first, { kind: 'unavailable', reason: 'timeout' });
    assert.equal(v.inFlight, 0);
    await v.verify(REQUEST);
    assert.equal(v.state, 'open');
  });

  it('a throwing onStateChange hook changes nothing', async () => {
    const inner = fakeInner(() => DOWN);
    const v = withResilience(inner.verifier, {
      maxInFlight: 2,
      failureThreshold: 1,
      coolDownMs: 1_000,
      onStateChange: () => {
        throw new Error('metrics down');
      },
    });
    assert.deepEqual(await v.verify(REQUEST), DOWN);
    assert.equal(v.state, 'open');
    assert.equal(v.inFlight, 0);
  });

  it('in-flight accounting returns to 0 after mixed outcomes', async () => {
    const script: Answer[] = [OK, REJECTED, DOWN, 'throw', 'throw_sync', OK, REJECTED, OK];
    const inner = fakeInner(() => script.shift() ?? OK);
    const { v } = setup(inner.verifier, { maxInFlight: 8, failureThreshold: 10 });
    const results = Promise.all(Array.from({ length: 8 }, () => v.verify(REQUEST)));
    assert.equal(v.inFlight, 8);
    const kinds = (await results).map((r) => r.kind);
    assert.deepEqual(kinds, ['ok', 'rejected', 'unavailable', 'unavailable', 'unavailable', 'ok', 'rejected', 'ok']);
    assert.equal(v.inFlight, 0);
    await flush();
    assert.equal(v.inFlight, 0);
  });

  it('rejects nonsense options, naming the option', () => {
    const inner = fakeInner().verifier;
    const base = { maxInFlight: 1, failureThreshold: 1, coolDownMs: 1 };
    for (const [name, bad] of [
      ['maxInFlight', { ...base, maxInFlight: 0 }],
      ['failureThreshold', { ...base, failureThreshold: 1.5 }],
      ['coolDownMs', { ...base, coolDownMs: Number.NaN }],
      ['timeoutMs', { ...base, timeoutMs: -1 }],
    ] as const) {
      assert.throws(() => withResilience(inner, bad), new RegExp(name));
    }
  });
});
