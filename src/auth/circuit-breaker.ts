/**
 * The resilience around calls to a service that may fail, generic over the call's result: a cap
 * on calls in flight, a deadline (the one deadline helper), and a circuit breaker that fails fast
 * while the service is down. The ticket verifier (verifiers/resilient.ts) and the backend hooks
 * (src/hooks/) are both this guard with their own result type. Nothing here can turn a failure
 * into a success: every refusal, timeout and throw is the policy's `unavailable` result.
 * With a probe, the breaker tests the service itself (after the cool-down, or at once when told
 * the dependency is back), so "closed" means the next call can succeed: readiness can use it.
 */
import { withDeadline } from './deadline.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Why a call produced no answer of the service's own. */
export type Refusal = 'circuit_open' | 'overloaded' | 'timeout' | 'error';

/** A call to the service: it gets the signal that aborts at its deadline (stop a fetch on it). */
export type Task<T> = (signal: AbortSignal) => Promise<T> | T;

export interface GuardOptions {
  /** Calls allowed at once; the next one is refused at once with `overloaded`. */
  readonly maxInFlight: number;
  /** Consecutive failures (results the policy calls failures, timeouts, throws) that open the breaker. */
  readonly failureThreshold: number;
  /** How long the open breaker fails fast before letting one trial call through. */
  readonly coolDownMs: number;
  /**
   * The deadline of a call that brings none (the breaker's own probe, or a caller without a
   * signal), counted as a failure: a call that never settles must not hold its slot forever or,
   * as the half-open trial, keep the breaker from ever closing. A call with a signal follows that
   * deadline instead. Default 2000.
   */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** Called on every transition (metrics, logs). Exceptions it throws are swallowed. */
  readonly onStateChange?: (state: BreakerState) => void;
}

/** What the guard needs to know about one kind of call's results. */
export interface GuardPolicy<T> {
  /** The result that stands for a call with no answer of its own (refused, past its deadline, thrown). */
  unavailable(reason: Refusal, retryAfterMs?: number): T;
  /** Whether the service failed (counts toward opening the breaker). Definite answers, even refusals, are successes. */
  isFailure(result: T): boolean;
  /**
   * Builds the breaker's own trial: a call that proves the service answers (e.g. a ticket nobody
   * was given), sent when the cool-down ends and whenever `retryNow()` is called, so no client's
   * request has to be the trial. Without a probe, the first call after the cool-down is the trial.
   */
  readonly probe?: () => Task<T>;
}

export interface CircuitGuard<T> {
  /** Runs `task` under the cap, the breaker and the deadline (`signal`'s, else `timeoutMs`); never rejects. */
  run(task: Task<T>, signal?: AbortSignal): Promise<T>;
  readonly state: BreakerState;
  readonly inFlight: number;
  /** Time until the open breaker lets a trial through, or 0 when it is not open. */
  retryAfterMs(): number;
  /**
   * The dependency is back (e.g. Redis reconnected): try the service now instead of waiting out the
   * cool-down. Runs the probe at once, or without one half-opens the breaker so that the next call
   * is the trial. Does nothing while the breaker is closed or a trial is running.
   */
  retryNow(): void;
  /** Stops the probe timer (the breaker keeps answering, without probing by itself). */
  close(): void;
}

export function createCircuitGuard<T>(policy: GuardPolicy<T>, options: GuardOptions): CircuitGuard<T> {
  return new Guard(policy, validate(options));
}

type Settings = Required<Omit<GuardOptions, 'onStateChange'>> & Pick<GuardOptions, 'onStateChange'>;

class Guard<T> implements CircuitGuard<T> {
  readonly #policy: GuardPolicy<T>;
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

  constructor(policy: GuardPolicy<T>, settings: Settings) {
    this.#policy = policy;
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
    if (this.#policy.probe !== undefined) void this.#runProbe();
    else if (this.#state === 'open') this.#transition('half_open');
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }

  /** The breaker's own trial: the probe through the same bounded call, recorded like a trial. */
  async #runProbe(): Promise<void> {
    const probe = this.#policy.probe;
    if (probe === undefined || this.#closed || this.#state === 'closed' || this.#trialRunning) return;
    if (this.#state === 'open') this.#transition('half_open');
    this.#trialRunning = true;
    const epoch = this.#epoch;
    let result: T;
    try {
      result = await this.#call(probe(), undefined);
    } catch {
      result = this.#policy.unavailable('error'); // a probe that cannot even be built
    } finally {
      this.#trialRunning = false;
    }
    this.#record(result, epoch, true);
  }

  async run(task: Task<T>, signal?: AbortSignal): Promise<T> {
    // Everything up to the first await runs synchronously, so the checks and counters below
    // cannot interleave with another call.
    this.#tick();
    if (this.#state === 'open' || (this.#state === 'half_open' && this.#trialRunning)) {
      const retryAfterMs = this.retryAfterMs();
      return retryAfterMs > 0 ? this.#policy.unavailable('circuit_open', retryAfterMs) : this.#policy.unavailable('circuit_open');
    }
    if (this.#inFlight >= this.#o.maxInFlight) return this.#policy.unavailable('overloaded');
    const trial = this.#state === 'half_open';
    if (trial) this.#trialRunning = true;
    const epoch = this.#epoch;
    this.#inFlight++;
    let result: T;
    try {
      result = await this.#call(task, signal);
    } finally {
      this.#inFlight--;
      if (trial) this.#trialRunning = false;
    }
    this.#record(result, epoch, trial);
    return result;
  }

  /**
   * The task, bounded by the caller's deadline (or, without one, `timeoutMs`); a throw is
   * `unavailable`. At the deadline the slot is freed although the task may still run: it has the
   * aborted signal, and a fetch stops on it.
   */
  #call(task: Task<T>, signal: AbortSignal | undefined): Promise<T> {
    return withDeadline<T>(
      task,
      signal === undefined ? { ms: this.#o.timeoutMs } : { outer: signal },
      () => this.#policy.unavailable('timeout'),
      () => this.#policy.unavailable('error'),
    );
  }

  #record(result: T, epoch: number, trial: boolean): void {
    if (epoch !== this.#epoch) return;
    if (this.#policy.isFailure(result)) {
      if (trial || ++this.#failures >= this.#o.failureThreshold) this.#transition('open');
      return;
    }
    // A definite answer (a refusal included) proves the service works: it counts as a success.
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
      if (this.#policy.probe !== undefined && !this.#closed) this.#probeTimer = setTimeout(() => void this.#runProbe(), this.#o.coolDownMs);
    }
    try {
      this.#o.onStateChange?.(state);
    } catch {
      // A faulty metrics hook must not break calls or leave the counters half-updated.
    }
  }
}

function validate(options: GuardOptions): Settings {
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
  };
}
