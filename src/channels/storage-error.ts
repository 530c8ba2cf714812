/** The one error the stream and presence ports reject with: a stable `code` the channel handlers turn into an error reply. */

export type StorageErrorCode =
  /** The backend cannot answer now (Redis down, closed): nothing was stored. Retry later. */
  | 'unavailable'
  | 'invalid_channel'
  /** An offset that is not a whole number in 0..2^53-1. */
  | 'invalid_position'
  /** An epoch that no backend could have made (not a short token). A well-formed foreign epoch is not an error. */
  | 'invalid_epoch'
  /** A page size outside the port's bounds. */
  | 'invalid_limit'
  /** Publication data that cannot be stored as JSON. */
  | 'invalid_data'
  /** A presence entry that is malformed or too large. */
  | 'invalid_entry'
  /** A history policy outside its bounds (a configuration bug, not client input). */
  | 'invalid_policy'
  /** An idempotency key that is not 1..128 visible ASCII characters. */
  | 'invalid_idempotency_key'
  /** The channel's namespace keeps no history (ChannelService.history). */
  | 'history_disabled'
  /** The channel's namespace has no presence (ChannelService.presence, presenceStats). */
  | 'presence_disabled';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string = code,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
