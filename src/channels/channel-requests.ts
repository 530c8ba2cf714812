/** Reading the positions and page sizes clients send (`since`, `limit`): anything malformed is null, never a throw. */
import type { Position } from './stream.ts';
import { MAX_READ_LIMIT } from './stream.ts';

/** The longest epoch a client may name (DELIVERY-PROTOCOL.md); a longer one is malformed, a shorter unknown one merely foreign. */
export const MAX_EPOCH_LENGTH = 64;
export const DEFAULT_HISTORY_LIMIT = 100;

/** `{"offset","epoch"}` with a safe non-negative integer offset and a string epoch of at most 64 characters; null otherwise. */
export function readSince(value: unknown): Position | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { offset, epoch } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) return null;
  if (typeof epoch !== 'string' || epoch.length > MAX_EPOCH_LENGTH) return null;
  return { offset: offset as number, epoch };
}

/** A history page size: absent → 100; an integer 1..1000, or null. */
export function readLimit(value: unknown): number | null {
  if (value === undefined) return DEFAULT_HISTORY_LIMIT;
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_READ_LIMIT ? (value as number) : null;
}
