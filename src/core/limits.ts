/**
 * Per-connection limits. Each has a documented default (docs/configuration.md); user options are
 * spread over these defaults.
 */
import type { RateSpec } from './token-bucket.ts';

export interface Limits {
  /** Time from open to the auth frame; after it the socket closes with 4408. */
  readonly authDeadlineMs: number;
  /** Upper bound on one verification, whatever the verifier; past it the socket closes with 1013. */
  readonly verifyTimeoutMs: number;
  /** The auth frame's maximum size in UTF-8 bytes (1009 above it). */
  readonly maxAuthFrameBytes: number;
  /** Any later message's maximum size in bytes (1009 above it). */
  readonly maxMessageBytes: number;
  /** Frames that may wait while the ticket is verified (1008 above it). */
  readonly maxQueuedFrames: number;
  /** Bytes that may wait while the ticket is verified (1008 above it). */
  readonly maxQueuedBytes: number;
  /** Received events not yet processed (slow handlers); past it the socket closes with 1008. */
  readonly maxPendingEvents: number;
  /** Messages per connection (4429 above it). */
  readonly messageRate: RateSpec;
  /** Bytes queued for sending to one client before it is a slow consumer (4413). */
  readonly maxBufferedBytes: number;
  /** Open sockets per authenticated user (the newest gets 4430). */
  readonly maxConnectionsPerUser: number;
  /** How long before `exp` the client is told `session.expiring` (0: no warning). */
  readonly sessionWarningMs: number;
}

export const defaultLimits: Limits = Object.freeze({
  authDeadlineMs: 5_000,
  verifyTimeoutMs: 2_000,
  maxAuthFrameBytes: 4 * 1024,
  maxMessageBytes: 64 * 1024,
  maxQueuedFrames: 32,
  maxQueuedBytes: 64 * 1024,
  maxPendingEvents: 256,
  messageRate: Object.freeze({ perSecond: 50, burst: 100 }),
  maxBufferedBytes: 1024 * 1024,
  maxConnectionsPerUser: 16,
  sessionWarningMs: 60_000,
});

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits = { ...defaultLimits, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number') continue;
    const positive = name === 'sessionWarningMs' ? value >= 0 : value > 0;
    if (!Number.isFinite(value) || !positive) throw new RangeError(`limit ${name} must be a positive number`);
  }
  if (!(limits.messageRate.perSecond > 0 && limits.messageRate.burst >= 1)) throw new RangeError('limit messageRate must be positive');
  return Object.freeze(limits);
}
