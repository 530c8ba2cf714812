/**
 * The presence port: who is subscribed to a channel, across every instance. Each instance holds
 * leases on its own entries and renews them, so the entries of an instance that died without
 * leaving vanish within `leaseMs`. Backends: src/backends/{memory,redis}/presence.ts; one contract
 * suite (test/contract/presence.contract.ts) runs against both.
 */
import { StorageError } from './storage-error.ts';
import { checkChannel } from './stream.ts';

export interface PresenceEntry {
  readonly sub: string;
  readonly connectionId: string;
  /** Claims the verifier marked public (JSON, at most MAX_PRESENCE_INFO_BYTES once encoded). */
  readonly info?: Readonly<Record<string, unknown>>;
}

export interface PresencePage {
  /** At most the requested limit, in no promised order. */
  readonly entries: readonly PresenceEntry[];
  /** How many entries the channel has (more than `entries.length` when the page was cut). */
  readonly total: number;
}

export interface PresenceStats {
  /** Subscribed connections. */
  readonly connections: number;
  /** Distinct `sub`s among them. */
  readonly users: number;
}

export interface Presence {
  /**
   * Adds the entry (or refreshes it: joining twice is one entry) and keeps it alive from this
   * instance until leave() or close(). Rejects (`unavailable`) when it could not be recorded.
   */
  join(channel: string, entry: PresenceEntry): Promise<void>;
  /**
   * Removes an entry this instance joined (connections belong to one instance). Never rejects:
   * when the backend is down, the lease lapses by itself.
   */
  leave(channel: string, connectionId: string): Promise<void>;
  /** Up to `limit` entries (1..MAX_PRESENCE_LIST) and the total. */
  list(channel: string, limit: number): Promise<PresencePage>;
  stats(channel: string): Promise<PresenceStats>;
  /**
   * The stated bound: an entry whose instance stopped renewing (killed, cut off) is gone from
   * list and stats at most this long (ms) after its last renewal.
   */
  readonly leaseMs: number;
  readonly healthy: boolean;
  /** Leaves every entry this instance holds (best effort) and stops renewing. */
  close(): Promise<void>;
  /**
   * Backends shared by instances: entries that came or went without a join() or leave() of theirs
   * — lapsed (their instance stopped renewing: killed, cut off) or written back by this instance
   * (its renewals were late, and another had dropped them). Each change is reported by one
   * instance only, so that `join`/`leave` events for it are sent once.
   */
  watch?(listener: PresenceListener): void;
}

/** A connection's place in presence, without its info. */
export interface PresenceMember {
  readonly sub: string;
  readonly connectionId: string;
}

export interface PresenceListener {
  lapsed(channel: string, members: readonly PresenceMember[]): void;
  restored(channel: string, members: readonly PresenceMember[]): void;
}

export const MAX_PRESENCE_LIST = 1000;
export const MAX_PRESENCE_INFO_BYTES = 1024;
const MAX_ID_LENGTH = 256;

const isId = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_LENGTH;

/** Validates an entry and returns its stored form (JSON); every backend calls this first. */
export function encodeEntry(channel: string, entry: PresenceEntry): string {
  checkChannel(channel);
  if (typeof entry !== 'object' || entry === null || !isId(entry.sub) || !isId(entry.connectionId)) throw new StorageError('invalid_entry');
  const info = entry.info;
  if (info !== undefined && (typeof info !== 'object' || info === null || Array.isArray(info)))
    throw new StorageError('invalid_entry', 'info must be an object');
  let json: string;
  try {
    json = JSON.stringify(
      info === undefined
        ? { sub: entry.sub, connectionId: entry.connectionId }
        : { sub: entry.sub, connectionId: entry.connectionId, info },
    );
  } catch (error) {
    throw new StorageError('invalid_entry', 'info is not JSON', { cause: error });
  }
  if (info !== undefined && new TextEncoder().encode(JSON.stringify(info)).length > MAX_PRESENCE_INFO_BYTES) {
    throw new StorageError('invalid_entry', `info over ${MAX_PRESENCE_INFO_BYTES} bytes`);
  }
  return json;
}

/** The stored form back to an entry; null for anything this port did not write. */
export function decodeEntry(json: string): PresenceEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (!isId(v.sub) || !isId(v.connectionId)) return null;
  const info = v.info;
  if (info === undefined) return { sub: v.sub, connectionId: v.connectionId };
  if (typeof info !== 'object' || info === null || Array.isArray(info)) return null;
  return { sub: v.sub, connectionId: v.connectionId, info: info as Record<string, unknown> };
}

export function checkListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PRESENCE_LIST)
    throw new StorageError('invalid_limit', `limit must be 1..${MAX_PRESENCE_LIST}`);
}
