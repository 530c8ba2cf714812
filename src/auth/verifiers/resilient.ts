/**
 * A Verifier decorator that protects the auth service and the gateway from each other: the
 * circuit guard (../circuit-breaker.ts: an in-flight cap, the deadline, a circuit breaker that
 * fails fast while the service is down) around verifications. Every refusal is `unavailable` (the
 * socket closes with 1013); nothing here can produce `ok` except passing on an `ok` that the inner
 * verifier returned. It never fails open.
 */
import { createCircuitGuard, type BreakerState, type GuardOptions, type Refusal } from '../circuit-breaker.ts';
import type { Verifier, VerifyOptions, VerifyRequest, VerifyResult } from '../verifier.ts';

export type { BreakerState } from '../circuit-breaker.ts';

export interface ResilienceOptions extends GuardOptions {
  /**
   * A verification that cannot succeed (a fresh random ticket), which the breaker sends itself as
   * its trial when the cool-down ends and whenever `retryNow()` is called. A definite answer
   * (`rejected`, or `ok`) proves the service answers and closes the breaker, so no client's socket
   * has to be the trial. Without a probe, the first verification after the cool-down is the trial.
   */
  readonly probe?: () => VerifyRequest;
}

export interface ResilientVerifier extends Verifier {
  readonly state: BreakerState;
  readonly inFlight: number;
  /** Time until the open breaker lets a trial through, or 0 when it is not open. */
  retryAfterMs(): number;
  /**
   * The dependency the breaker tripped on is back (e.g. Redis reconnected): try the service now
   * instead of waiting out the cool-down. Runs the probe at once, or without one half-opens the
   * breaker so that the next verification is the trial. Does nothing while the breaker is closed
   * or a trial is running.
   */
  retryNow(): void;
  /** Stops the probe timer (the breaker keeps answering, without probing by itself). */
  close(): void;
}

const overloaded: VerifyResult = Object.freeze({ kind: 'unavailable', reason: 'overloaded' });
const REASONS: Record<Refusal, string> = {
  circuit_open: 'circuit_open',
  overloaded: 'overloaded',
  timeout: 'timeout',
  error: 'verifier_error',
};

export function withResilience(inner: Verifier, options: ResilienceOptions): ResilientVerifier {
  /** One verification as the guard's task; a malformed answer is `unavailable`, never `ok`. */
  const task = (request: VerifyRequest) => async (signal: AbortSignal) => {
    const result: unknown = await inner.verify(request, { signal });
    return isResult(result) ? result : ({ kind: 'unavailable', reason: 'bad_result' } as const);
  };
  const { probe } = options;
  const guard = createCircuitGuard<VerifyResult>(
    {
      unavailable: (reason, retryAfterMs) =>
        reason === 'overloaded'
          ? overloaded
          : retryAfterMs === undefined
            ? { kind: 'unavailable', reason: REASONS[reason] }
            : { kind: 'unavailable', reason: REASONS[reason], retryAfterMs },
      isFailure: (result) => result.kind === 'unavailable',
      probe: probe === undefined ? undefined : () => task(probe()),
    },
    options,
  );
  return {
    verify: (request: VerifyRequest, verifyOptions: VerifyOptions = {}) => guard.run(task(request), verifyOptions.signal),
    get state() {
      return guard.state;
    },
    get inFlight() {
      return guard.inFlight;
    },
    retryAfterMs: () => guard.retryAfterMs(),
    retryNow: () => guard.retryNow(),
    close: () => guard.close(),
  };
}

function isResult(value: unknown): value is VerifyResult {
  if (typeof value !== 'object' || value === null) return false;
  const { kind } = value as { kind?: unknown };
  if (kind === 'ok')
    return typeof (value as { identity?: unknown }).identity === 'object' && (value as { identity?: unknown }).identity !== null;
  return kind === 'rejected' || kind === 'unavailable';
}
