/**
 * Per-connection limits. Each has a documented default (docs/configuration.md); user options are
 * spread over these defaults.
 */
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
}

export const defaultLimits: Limits = Object.freeze({
  authDeadlineMs: 5_000,
  verifyTimeoutMs: 2_000,
  maxAuthFrameBytes: 4 * 1024,
  maxMessageBytes: 64 * 1024,
  maxQueuedFrames: 32,
  maxQueuedBytes: 64 * 1024,
  maxPendingEvents: 256,
});

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits = { ...defaultLimits, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`limit ${name} must be a positive number`);
  }
  return Object.freeze(limits);
}
