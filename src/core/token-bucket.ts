/**
 * Token buckets: the one rate primitive (message rate, upgrade rate, login and ticket attempts).
 * Pure arithmetic over an injected clock; no timers.
 */
export interface RateSpec {
  /** Sustained rate, tokens per second. */
  readonly perSecond: number;
  /** Bucket size: how many may come at once. */
  readonly burst: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/** A bucket's level at `now`, from `tokens` at `updated` (ms): refilled at the rate, never above burst. */
export const refilled = (spec: RateSpec, tokens: number, updated: number, now: number): number =>
  Math.min(spec.burst, tokens + (Math.max(0, now - updated) / 1000) * spec.perSecond);

/** One answer for every granted take: the per-message path allocates nothing here. */
const GRANTED: TakeResult = Object.freeze({ ok: true });

export class TokenBucket {
  #tokens: number;
  #updated: number;

  constructor(
    readonly spec: RateSpec,
    now: number,
  ) {
    this.#tokens = spec.burst;
    this.#updated = now;
  }

  take(now: number, cost = 1): TakeResult {
    this.#tokens = refilled(this.spec, this.#tokens, this.#updated, now);
    this.#updated = now;
    if (this.#tokens >= cost) {
      this.#tokens -= cost;
      return GRANTED;
    }
    return { ok: false, retryAfterMs: Math.ceil(((cost - this.#tokens) / this.spec.perSecond) * 1000) };
  }

  /** Gives back a token taken for something that turned out not to count (never above burst). */
  refund(cost = 1): void {
    this.#tokens = Math.min(this.spec.burst, this.#tokens + cost);
  }

  /** True when the bucket is full again, i.e. forgetting it changes nothing. */
  isIdle(now: number): boolean {
    return refilled(this.spec, this.#tokens, this.#updated, now) >= this.spec.burst;
  }
}

/**
 * One bucket per key (IP, username, session) with bounded memory: idle buckets are swept, and
 * past `maxKeys` a new key is refused rather than growing the map (fail closed under a key flood).
 */
export class KeyedRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  #lastSweep = 0;

  constructor(
    readonly spec: RateSpec,
    readonly maxKeys = 100_000,
  ) {}

  take(key: string, now: number): TakeResult {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      this.#sweep(now);
      if (this.#buckets.size >= this.maxKeys) return { ok: false, retryAfterMs: Math.ceil(1000 / this.spec.perSecond) };
      bucket = new TokenBucket(this.spec, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  /** Gives a token back to `key`'s bucket, if it still has one. */
  refund(key: string): void {
    this.#buckets.get(key)?.refund();
  }

  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < 1_000 && this.#buckets.size < this.maxKeys) return;
    this.#lastSweep = now;
    for (const [key, bucket] of this.#buckets) if (bucket.isIdle(now)) this.#buckets.delete(key);
  }
}
