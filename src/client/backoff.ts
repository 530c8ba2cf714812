/**
 * Reconnect delays. Full jitter (random in [0, min(max, min·2^n)]) spreads a crowd of clients that
 * lost the same server over the whole window instead of bunching them at the same instants, which
 * is what keeps a restart from becoming a verification storm.
 */
import type { RetryClass } from '../protocol/close-codes.ts';

export interface BackoffBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffBounds = { minMs: 500, maxMs: 30_000 };

/** The step for attempt `n` (0-based): min(max, min·2^n). */
export function backoffCeiling(n: number, bounds: BackoffBounds): number {
  // 2^n overflows to Infinity long after it passes any sane max; Math.min copes with that.
  return Math.min(bounds.maxMs, bounds.minMs * 2 ** Math.max(0, n));
}

export function fullJitter(n: number, bounds: BackoffBounds, random: () => number): number {
  return Math.floor(random() * backoffCeiling(n, bounds));
}

/**
 * The wait before the next attempt, given how many attempts failed in a row (`failures`, 0 right
 * after a good connection ended). `reconnect` (4401, 4409, …) means a fresh ticket is likely to
 * work, so the first retry is immediate; repeated failures still back off so a broken ticket
 * source cannot spin. A server hint wins over both.
 */
export function nextDelay(
  retry: Exclude<RetryClass, 'do-not-retry'>,
  failures: number,
  bounds: BackoffBounds,
  random: () => number,
  hintMs?: number,
): number {
  if (hintMs !== undefined) return hintMs;
  if (retry === 'reconnect') return failures === 0 ? 0 : fullJitter(failures - 1, bounds, random);
  return fullJitter(failures, bounds, random);
}
