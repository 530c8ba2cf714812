/** The value syntaxes options share: durations, byte sizes, rates, counts and booleans. */
import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** "30s", "500ms", "2m", "1h"; a bare number is seconds. Parsed to milliseconds. */
export const duration = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(DURATION, 'expected a duration such as 500ms, 30s, 2m or 1h')
    .transform((text) => {
      const [, amount = '0', unit = 's'] = DURATION.exec(text) ?? [];
      return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
    })
    .pipe(z.number().min(min, `must be at least ${min} ms`).max(max, `must be at most ${max} ms`));

const SIZE = /^(\d+)(B|KiB|MiB)?$/i;
const UNIT_BYTES: Record<string, number> = { b: 1, kib: 1024, mib: 1024 * 1024 };

/** "4096", "4KiB", "1MiB": parsed to bytes. */
export const byteSize = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(SIZE, 'expected a size such as 4096, 64KiB or 1MiB')
    .transform((text) => {
      const [, amount = '0', unit = 'b'] = SIZE.exec(text) ?? [];
      return Number(amount) * (UNIT_BYTES[unit.toLowerCase()] ?? 1);
    })
    .pipe(z.number().int().min(min, `must be at least ${min} bytes`).max(max, `must be at most ${max} bytes`));

export const booleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
  .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');

/** A whole number within bounds. */
export const count = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const RATE = /^(\d+(?:\.\d+)?)\/s,(\d+)$/;

/** "50/s,100": 50 per second sustained, bursts of up to 100. */
export const rate = z
  .string()
  .trim()
  .regex(RATE, 'expected rate/s,burst such as 50/s,100')
  .transform((text) => {
    const [, perSecond = '0', burst = '0'] = RATE.exec(text) ?? [];
    return { perSecond: Number(perSecond), burst: Number(burst) };
  })
  .refine((r) => r.perSecond > 0 && r.burst >= 1, 'rate and burst must be positive');
