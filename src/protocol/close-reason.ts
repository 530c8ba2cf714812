/**
 * The close reason's retry hint, written by the server and read by clients in one place:
 * `<fixed reason>; retry-after-ms=<n>` tells a client when to come back (circuit breaker, drain).
 */
import type { CloseCodeInfo } from './close-codes.ts';

/** A hint above this is read as this: a typo on a server must not park clients for days. */
export const MAX_HINT_MS = 10 * 60_000;

/** The close with `retry-after-ms=<n>` appended to its reason (unchanged without a hint). */
export function withRetryHint(info: CloseCodeInfo, retryAfterMs: number | undefined): CloseCodeInfo {
  return retryAfterMs === undefined ? info : { ...info, reason: `${info.reason}; retry-after-ms=${Math.round(retryAfterMs)}` };
}

/** Splits `server going away; retry-after-ms=1234` into the reason and the hint. */
export function parseCloseReason(raw: string): { reason: string; retryAfterMs?: number } {
  const match = /^(.*?);\s*retry-after-ms=(\d{1,10})\s*$/.exec(raw);
  if (match === null) return { reason: raw };
  return { reason: match[1]!, retryAfterMs: Math.min(Number(match[2]), MAX_HINT_MS) };
}
