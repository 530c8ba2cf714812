/**
 * The stream port: every client channel's live fan-out, and for channels with history a
 * publication log with positions (offset + epoch). Backends: src/backends/{memory,redis}/stream.ts;
 * one contract suite (test/contract/stream.contract.ts) runs against both.
 *
 * Why one port for live and stored publications: a subscriber sees one ordered flow per channel
 * whichever the namespace, the handlers have one delivery path, and a publish answered `ok` in a
 * namespace with history always means "stored, then notified" — the notification is sent by the
 * same atomic step that stored it, so nothing is delivered live that history does not hold.
 */
import { isValidChannel } from './names.ts';
import { StorageError } from './storage-error.ts';

/** Where a channel's stream is, or where a reader is in it. */
export interface Position {
  /** Offset of the latest publication; 0 when the epoch has none yet. Offsets grow by 1 per publication. */
  readonly offset: number;
  /**
   * Opaque token naming one unbroken life of the stream. It changes whenever the backend lost the
   * stream (a memory backend's restart, Redis restarted without persistence, flushed, evicted, or
   * the stream's position expired): offsets of two epochs never compare.
   */
  readonly epoch: string;
}

export interface Publication {
  readonly channel: string;
  readonly data: unknown;
  /** The publisher's `sub`. */
  readonly from: string;
  /** Present when the channel keeps history: where this publication is in its stream. */
  readonly position?: Position;
}

/** A namespace's history options, as the stream needs them. */
export interface HistoryPolicy {
  /** The newest this many publications are kept (1..MAX_HISTORY_SIZE). */
  readonly size: number;
  /** Publications are dropped once the channel has had no publication for this long (ms). */
  readonly ttlMs: number;
  /**
   * The position (epoch and latest offset) is kept this long after the channel's last publish or
   * read (ms, ≥ ttlMs). A reader whose position is still current after a quiet spell recovers with
   * nothing missed; once the position itself is gone, the next publish starts a new epoch.
   */
  readonly metaTtlMs: number;
}

/** What a publish may ask of the stream besides storing. */
export interface StreamPublishOptions {
  /**
   * A publish carrying a key already seen on this channel within `idempotencyTtlMs` is not stored
   * or notified again: it resolves with the first one's position (null on a live-only channel).
   * The check and the append are one atomic step, across every instance sharing the backend.
   */
  readonly idempotencyKey?: string;
  /** How long a key is remembered (ms, 1..MAX_IDEMPOTENCY_TTL_MS); default DEFAULT_IDEMPOTENCY_TTL_MS. */
  readonly idempotencyTtlMs?: number;
}

export interface ReadRequest {
  /** Exclusive: publications with an offset greater than this. 0 reads from the oldest kept. */
  readonly after: number;
  /** The epoch `after` belongs to. Omitted: whatever the current epoch is (a plain history page). */
  readonly epoch?: string;
  /** At most this many publications, 0..MAX_READ_LIMIT (0 reads only the position). */
  readonly limit: number;
}

export interface ReadResult {
  /**
   * Offsets after `after` in ascending order, consecutive, at most `limit`; none when the epoch
   * does not match. (An entry some other writer corrupted is skipped and logged, never delivered.)
   */
  readonly publications: readonly Publication[];
  /** The stream's latest position when it was read (the epoch is created if the channel had none). */
  readonly position: Position;
  /** The request named no epoch, or the stream's current one. */
  readonly epochMatches: boolean;
  /**
   * Every publication after `after` is still stored (none dropped by size or age), so paging on
   * from the last returned offset yields all of them. False when the epoch does not match and
   * when `after` is beyond the latest offset (a position this stream never gave out).
   */
  readonly reachesBack: boolean;
}

/** What an instance hears for a channel it subscribed to. */
export interface StreamListener {
  /**
   * A publication, live. For one channel they arrive in offset order; a jump in offsets means
   * notifications were lost in between (read them). Called synchronously: do not throw.
   */
  publication(publication: Publication): void;
  /**
   * This instance's live link was interrupted and is back: publications made meanwhile may never
   * be notified. Read after the last offset delivered. (Live-only channels cannot catch up.)
   */
  resumed(): void;
}

export interface Stream {
  /**
   * Delivers to every subscriber on every instance. With `history`, the publication is appended
   * and notified in one atomic step and the promise resolves with its position only once stored;
   * it rejects (`unavailable`) when it could not be — it may then still have been stored, never
   * the reverse. Without history: at-most-once live delivery, resolves with null.
   */
  publish(
    channel: string,
    message: { readonly data: unknown; readonly from: string },
    history: HistoryPolicy | null,
    options?: StreamPublishOptions,
  ): Promise<Position | null>;
  /** Stored publications after a position, bounded; see ReadResult. */
  read(channel: string, request: ReadRequest, history: HistoryPolicy): Promise<ReadResult>;
  /** The channel's current position (creating its epoch if it had none, so later publications keep it). */
  position(channel: string, history: HistoryPolicy): Promise<Position>;
  /**
   * If the channel is still at `epoch`, starts a new epoch at offset 0 and drops its stored
   * publications; resolves with the position afterwards (unchanged when another instance already
   * did it). Called by a reader that saw the stream go back behind an offset it had delivered (a
   * Redis restored from an older snapshot reuses offsets): only a new epoch tells every reader.
   */
  abandonEpoch(channel: string, epoch: string, history: HistoryPolicy): Promise<Position>;
  /**
   * Adds a local listener; resolves once publications made afterwards reach it. Rejects
   * (`unavailable`) while the live link is down. The returned function removes it (idempotent).
   */
  subscribe(channel: string, listener: StreamListener): Promise<() => void>;
  /** Can publish, read and subscribe now (readiness). */
  readonly healthy: boolean;
  close(): Promise<void>;
}

/** Largest page one read returns. */
export const MAX_READ_LIMIT = 1000;
/** Largest history a namespace may keep per channel. */
export const MAX_HISTORY_SIZE = 10_000;

/** The longest idempotency key and how long one may be remembered. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;
export const MAX_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
export const DEFAULT_IDEMPOTENCY_TTL_MS = 120_000;

const EPOCH = /^[A-Za-z0-9._-]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]+$/;

/** Whether a string could be an epoch some backend made; any other string is certainly foreign. */
export function isEpochToken(epoch: unknown): epoch is string {
  return typeof epoch === 'string' && EPOCH.test(epoch);
}

/** The key and its window, checked; null when the publish carries no key. */
export function checkIdempotency(options: StreamPublishOptions | undefined): { readonly key: string; readonly ttlMs: number } | null {
  if (options?.idempotencyKey === undefined) return null;
  const key: unknown = options.idempotencyKey;
  if (typeof key !== 'string' || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !IDEMPOTENCY_KEY.test(key))
    throw new StorageError('invalid_idempotency_key', `an idempotency key is 1..${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters`);
  const ttlMs = options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_IDEMPOTENCY_TTL_MS)
    throw new StorageError('invalid_policy', 'idempotency window out of bounds');
  return { key, ttlMs };
}

/** Rejects what no backend should see; every backend calls these first so all answer alike. */
export function checkChannel(channel: unknown): asserts channel is string {
  if (!isValidChannel(channel)) throw new StorageError('invalid_channel');
}

export function checkPolicy(history: HistoryPolicy): void {
  const { size, ttlMs, metaTtlMs } = history;
  const ok =
    Number.isInteger(size) &&
    size >= 1 &&
    size <= MAX_HISTORY_SIZE &&
    Number.isInteger(ttlMs) &&
    ttlMs >= 1 &&
    Number.isInteger(metaTtlMs) &&
    metaTtlMs >= ttlMs;
  if (!ok) throw new StorageError('invalid_policy', 'history policy out of bounds');
}

export function checkRead(request: ReadRequest): void {
  const { after, limit, epoch } = request;
  if (!Number.isSafeInteger(after) || after < 0) throw new StorageError('invalid_position', 'offset must be a whole number ≥ 0');
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_READ_LIMIT)
    throw new StorageError('invalid_limit', `limit must be 0..${MAX_READ_LIMIT}`);
  if (epoch !== undefined && !isEpochToken(epoch)) throw new StorageError('invalid_epoch');
}

/** The stored form of a publication's body (JSON); rejects data JSON cannot carry. */
export function encodeBody(message: { readonly data: unknown; readonly from: string }): string {
  if (typeof message.from !== 'string') throw new StorageError('invalid_data', 'from must be a string');
  try {
    return JSON.stringify({ from: message.from, data: message.data ?? null });
  } catch (error) {
    throw new StorageError('invalid_data', 'data is not JSON', { cause: error });
  }
}

/** A fresh epoch token: 64 random bits, hex. */
export function newEpoch(): string {
  let hex = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(8))) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
