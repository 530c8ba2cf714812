/**
 * A Verifier decorator that protects the auth service and the gateway from each other: a cap on
 * verifications in flight, and a circuit breaker that fails fast while the service is down.
 * Every refusal is `unavailable` (the socket closes with 1013); nothing here can produce `ok`
 * except passing on an `ok` that the inner verifier returned. It never fails open.
 * With a probe, the breaker tests the service itself (after the cool-down, or at once when told
 * the dependency is back), so "closed" means a new socket can be verified: readiness can use it.
 */
import { withDeadline } from '../deadline.ts';
import type { Verifier, VerifyOptions, VerifyRequest, VerifyResult } from '../verifier.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface ResilienceOptions {
  /** Verifications allowed at once; the next one is refused at once with `overloaded`. */
  readonly maxInFlight: number;
  /** Consecutive `unavailable` results (or throws) that open the breaker. */
  readonly failureThreshold: number;
  /** How long the open breaker fails fast before letting one trial call through. */
  readonly coolDownMs: number;
  /**
   * The deadline of a call that brings none (the breaker's own probe, or a caller without a
   * signal), counted as an `unavailable` failure: a verifier that never settles must not hold its
   * slot forever or, as the half-open trial, keep the breaker from ever closing. A call with a
   * signal (the gateway's) follows that deadline instead. Default 2000.
   */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** Called on every transition (metrics, logs). Exceptions it throws are swallowed. */
  readonly onStateChange?: (state: BreakerState) => void;
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

export function withResilience(inner: Verifier, options: ResilienceOptions): ResilientVerifier {
  return new Resilient(inner, validate(options));
}

type Settings = Required<Omit<ResilienceOptions, 'onStateChange' | 'probe'>> & Pick<ResilienceOptions, 'onStateChange' | 'probe'>;

const overloaded: VerifyResult = Object.freeze({ kind: 'unavailable', reason: 'overloaded' });

class Resilient implements ResilientVerifier {
  readonly #inner: Verifier;
  readonly #o: Settings;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openUntil = 0;
  #trialRunning = false;
  /**
   * Bumped on every transition. A result only moves the breaker if it was started in the current
   * epoch: a late failure from before a trial must not reopen a breaker the trial just closed.
   */
  #epoch = 0;
  #inFlight = 0;
  /** The probe scheduled for the end of the cool-down (only with a probe). */
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(inner: Verifier, settings: Settings) {
    this.#inner = inner;
    this.#o = settings;
  }

  get state(): BreakerState {
    this.#tick();
    return this.#state;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  retryAfterMs(): number {
    this.#tick();
    return this.#state === 'open' ? Math.max(0, this.#openUntil - this.#o.now()) : 0;
  }

  retryNow(): void {
    if (this.#state === 'closed' || this.#trialRunning) return;
    if (this.#o.probe !== undefined) void this.#runProbe();
    else if (this.#state === 'open') this.#transition('half_open');
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }

  /** The breaker's own trial: the probe request through the same bounded call, recorded like a trial. */
  async #runProbe(): Promise<void> {
    const probe = this.#o.probe;
    if (probe === undefined || this.#closed || this.#state === 'closed' || this.#trialRunning) return;
    if (this.#state === 'open') this.#transition('half_open');
    this.#trialRunning = true;
    const epoch = this.#epoch;
    let result: VerifyResult;
    try {
      result = await this.#call(probe(), undefined);
    } catch {
      result = { kind: 'unavailable', reason: 'verifier_error' }; // a probe that cannot even be built
    } finally {
      this.#trialRunning = false;
    }
    this.#record(result, epoch, true);
  }

  async verify(request: VerifyRequest, options: VerifyOptions = {}): Promise<VerifyResult> {
    // Everything up to the first await runs synchronously, so the checks and counters below
    // cannot interleave with another call.
    this.#tick();
    if (this.#state === 'open' || (this.#state === 'half_open' && this.#trialRunning)) {
      const retryAfterMs = this.retryAfterMs();
      return retryAfterMs > 0
        ? { kind: 'unavailable', reason: 'circuit_open', retryAfterMs }
        : { kind: 'unavailable', reason: 'circuit_open' };
    }
    if (this.#inFlight >= this.#o.maxInFlight) return overloaded;
    const trial = this.#state === 'half_open';
    if (trial) this.#trialRunning = true;
    const epoch = this.#epoch;
    this.#inFlight++;
    let result: VerifyResult;
    try {
      result = await this.#call(request, options.signal);
    } finally {
      this.#inFlight--;
      if (trial) this.#trialRunning = false;
    }
    this.#record(result, epoch, trial);
    return result;
  }

  /**
   * The inner call, bounded by the caller's deadline (or, without one, `timeoutMs`); a throw or a
   * malformed answer becomes `unavailable`. At the deadline the slot is freed although the inner
   * call may still run: it has the aborted signal, and HttpVerifier stops its fetch on it.
   */
  #call(request: VerifyRequest, signal: AbortSignal | undefined): Promise<VerifyResult> {
    return withDeadline<VerifyResult>(
      async (inner) => {
        const result: unknown = await this.#inner.verify(request, { signal: inner });
        return isResult(result) ? result : { kind: 'unavailable', reason: 'bad_result' };
      },
      signal === undefined ? { ms: this.#o.timeoutMs } : { outer: signal },
      () => ({ kind: 'unavailable', reason: 'timeout' }),
      () => ({ kind: 'unavailable', reason: 'verifier_error' }),
    );
  }

  #record(result: VerifyResult, epoch: number, trial: boolean): void {
    if (epoch !== this.#epoch) return;
    if (result.kind === 'unavailable') {
      if (trial || ++this.#failures >= this.#o.failureThreshold) this.#transition('open');
      return;
    }
    // `rejected` is a definite answer: the service works, so it counts as a success.
    if (trial) this.#transition('closed');
    else this.#failures = 0;
  }

  /**
   * The open breaker turns half-open lazily, when someone looks after the cool-down (or when the
   * probe timer fires). With a probe, the probe is the trial.
   */
  #tick(): void {
    if (this.#state !== 'open' || this.#o.now() < this.#openUntil) return;
    this.#transition('half_open');
    void this.#runProbe();
  }

  #transition(state: BreakerState): void {
    this.#state = state;
    this.#epoch++;
    this.#failures = 0;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    if (state === 'open') {
      this.#openUntil = this.#o.now() + this.#o.coolDownMs;
      if (this.#o.probe !== undefined && !this.#closed) this.#probeTimer = setTimeout(() => void this.#runProbe(), this.#o.coolDownMs);
    }
    try {
      this.#o.onStateChange?.(state);
    } catch {
      // A faulty metrics hook must not break verification or leave the counters half-updated.
    }
  }
}

function isResult(value: unknown): value is VerifyResult {
  if (typeof value !== 'object' || value === null) return false;
  const { kind } = value as { kind?: unknown };
  if (kind === 'ok')
    return typeof (value as { identity?: unknown }).identity === 'object' && (value as { identity?: unknown }).identity !== null;
  return kind === 'rejected' || kind === 'unavailable';
}

function validate(options: ResilienceOptions): Settings {
  const int = (name: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`resilience: ${name} must be a positive integer`);
    return value;
  };
  const ms = (name: string, value: number) => {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`resilience: ${name} must be a positive number of milliseconds`);
    return value;
  };
  return {
    maxInFlight: int('maxInFlight', options.maxInFlight),
    failureThreshold: int('failureThreshold', options.failureThreshold),
    coolDownMs: ms('coolDownMs', options.coolDownMs),
    timeoutMs: ms('timeoutMs', options.timeoutMs ?? 2_000),
    now: options.now ?? Date.now,
    onStateChange: options.onStateChange,
    probe: options.probe,
  };
}
