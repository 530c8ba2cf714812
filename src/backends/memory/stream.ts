/**
 * The stream in one process: a bounded ring of publications per channel, its position (epoch +
 * latest offset), and local fan-out. Memory stays bounded: at most `maxChannels` channels and
 * `maxBytes` of stored bodies (least recently used channels go first; a channel that alone exceeds
 * the budget loses its oldest publications), and a channel nobody published to or read within its
 * position's lifetime is forgotten. A forgotten channel comes back with a new epoch, as after a
 * restart: nothing is ever served from a stream that lost data without the epoch saying so.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import { StorageError } from '../../channels/storage-error.ts';
import type {
  HistoryPolicy,
  Position,
  Publication,
  ReadRequest,
  ReadResult,
  Stream,
  StreamListener,
  StreamPublishOptions,
} from '../../channels/stream.ts';
import { checkChannel, checkIdempotency, checkPolicy, checkRead, encodeBody, isEpochToken, newEpoch } from '../../channels/stream.ts';
import { ListenerSets } from '../listener-sets.ts';

export interface MemoryStreamOptions {
  /** Channels with a stored position or publications at once. Default 100 000. */
  readonly maxChannels?: number;
  /** Stored publication bodies, in UTF-16 code units of their JSON. Default 64 Mi. */
  readonly maxBytes?: number;
  /** Idempotency keys remembered at once; past it the oldest are forgotten early. Default 100 000. */
  readonly maxIdempotencyKeys?: number;
  readonly logger?: Logger;
  /** Clock (ms); tests move it instead of sleeping. */
  readonly now?: () => number;
}

interface Stored {
  readonly offset: number;
  readonly body: string;
}

interface Log {
  readonly epoch: string;
  top: number;
  /** Consecutive offsets; live ones start at `head`. */
  entries: Stored[];
  head: number;
  bytes: number;
  /** When the publications are dropped (last publish + ttl). */
  dropAt: number;
  /** When the position is forgotten (last publish or read + metaTtl). */
  forgetAt: number;
}

/** Channels looked at for expiry after each operation (amortised sweep, no timer). */
const SWEEP = 4;

export class MemoryStream implements Stream {
  readonly #listeners: ListenerSets<StreamListener>;
  /** Least recently used first: every touch re-inserts the channel at the end. */
  readonly #logs = new Map<string, Log>();
  readonly #maxChannels: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  /** channel + key → the first publish's answer, oldest first (so expiry and the cap trim from the front). */
  readonly #seen = new Map<string, { readonly position: Position | null; readonly expiresAt: number }>();
  readonly #maxKeys: number;
  /** Epochs are this instance's random id plus a counter: a new instance never repeats one. */
  readonly #instance = newEpoch();
  #epochs = 0;
  #bytes = 0;
  #closed = false;

  constructor(options: MemoryStreamOptions = {}) {
    this.#listeners = new ListenerSets((options.logger ?? silentLogger).child({ component: 'memory-stream' }));
    this.#maxChannels = options.maxChannels ?? 100_000;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxKeys = options.maxIdempotencyKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  get healthy(): boolean {
    return !this.#closed;
  }

  /** What is held now (for tests and metrics). */
  get usage(): { readonly channels: number; readonly bytes: number } {
    return { channels: this.#logs.size, bytes: this.#bytes };
  }

  async publish(
    channel: string,
    message: { readonly data: unknown; readonly from: string },
    history: HistoryPolicy | null,
    options?: StreamPublishOptions,
  ): Promise<Position | null> {
    this.#open();
    checkChannel(channel);
    const body = encodeBody(message);
    const once = checkIdempotency(options);
    if (history !== null) checkPolicy(history);
    const seenKey = once === null ? null : `${channel}\n${once.key}`;
    if (seenKey !== null) {
      const seen = this.#recall(seenKey);
      if (seen !== undefined) return seen;
    }
    let position: Position | null = null;
    if (history !== null) {
      const log = this.#touch(channel, history);
      const offset = ++log.top;
      log.entries.push({ offset, body });
      log.bytes += body.length;
      this.#bytes += body.length;
      log.dropAt = this.#now() + history.ttlMs;
      while (log.entries.length - log.head > history.size) this.#dropOldest(log);
      position = { offset, epoch: log.epoch };
      this.#bound(channel);
    }
    // Snapshot now: a listener added after this publish must not receive it (as with Redis).
    const targets = this.#listeners.snapshot(channel);
    if (targets.length > 0) {
      const publication: Publication = { channel, data: message.data ?? null, from: message.from, ...(position ? { position } : {}) };
      queueMicrotask(() => this.#listeners.each(targets, channel, (l) => l.publication(publication)));
    }
    if (seenKey !== null) this.#remember(seenKey, position, once!.ttlMs);
    return position;
  }

  async abandonEpoch(channel: string, epoch: string, history: HistoryPolicy): Promise<Position> {
    this.#open();
    checkChannel(channel);
    checkPolicy(history);
    if (!isEpochToken(epoch)) throw new StorageError('invalid_epoch');
    const log = this.#logs.get(channel);
    if (log !== undefined && log.epoch === epoch) {
      this.#forget(log);
      this.#logs.delete(channel);
    }
    return this.position(channel, history);
  }

  async read(channel: string, request: ReadRequest, history: HistoryPolicy): Promise<ReadResult> {
    this.#open();
    checkChannel(channel);
    checkPolicy(history);
    checkRead(request);
    const log = this.#touch(channel, history);
    this.#bound(channel);
    const position: Position = { offset: log.top, epoch: log.epoch };
    if (request.epoch !== undefined && request.epoch !== log.epoch)
      return { publications: [], position, epochMatches: false, reachesBack: false };
    if (request.after > log.top) return { publications: [], position, epochMatches: true, reachesBack: false };
    const stored = log.entries.length - log.head;
    // The oldest readable offset: what the ring holds, and never more than `size` back (as with Redis).
    const oldest = Math.max(stored > 0 ? log.entries[log.head]!.offset : log.top + 1, log.top - history.size + 1);
    const from = Math.max(request.after + 1, oldest);
    const publications: Publication[] = [];
    for (let offset = from; offset <= log.top && publications.length < request.limit; offset++) {
      const entry = log.entries[log.head + (offset - log.entries[log.head]!.offset)]!;
      const { from: sender, data } = JSON.parse(entry.body) as { from: string; data: unknown };
      publications.push({ channel, data, from: sender, position: { offset, epoch: log.epoch } });
    }
    return { publications, position, epochMatches: true, reachesBack: request.after + 1 >= oldest };
  }

  async position(channel: string, history: HistoryPolicy): Promise<Position> {
    return (await this.read(channel, { after: 0, limit: 0 }, history)).position;
  }

  async subscribe(channel: string, listener: StreamListener): Promise<() => void> {
    this.#open();
    checkChannel(channel);
    const { remove } = this.#listeners.add(channel, listener);
    return () => void remove();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#logs.clear();
    this.#seen.clear();
    this.#bytes = 0;
  }

  #open(): void {
    if (this.#closed) throw new StorageError('unavailable', 'stream closed');
  }

  /** The answer remembered for a key, if it is still within its window. */
  #recall(key: string): Position | null | undefined {
    const now = this.#now();
    // Expired keys at the old end go first (amortised, no timer).
    for (const [k, entry] of this.#seen) {
      if (entry.expiresAt > now) break;
      this.#seen.delete(k);
    }
    const entry = this.#seen.get(key);
    return entry !== undefined && entry.expiresAt > now ? entry.position : undefined;
  }

  #remember(key: string, position: Position | null, ttlMs: number): void {
    this.#seen.set(key, { position, expiresAt: this.#now() + ttlMs });
    while (this.#seen.size > this.#maxKeys) this.#seen.delete(this.#seen.keys().next().value as string);
  }

  /** The channel's log with expiry applied and its position's lifetime extended; created (new epoch) when missing. */
  #touch(channel: string, history: HistoryPolicy): Log {
    const now = this.#now();
    let log = this.#logs.get(channel);
    if (log !== undefined) {
      this.#logs.delete(channel);
      if (now >= log.forgetAt) {
        this.#forget(log);
        log = undefined;
      } else if (now >= log.dropAt) this.#dropAll(log);
    }
    log ??= {
      epoch: `${this.#instance}.${(++this.#epochs).toString(36)}`,
      top: 0,
      entries: [],
      head: 0,
      bytes: 0,
      dropAt: Infinity,
      forgetAt: 0,
    };
    log.forgetAt = now + history.metaTtlMs;
    this.#logs.set(channel, log);
    return log;
  }

  /** Expired channels at the old end go; then the caps are enforced, sparing `current` while others remain. */
  #bound(current: string): void {
    const now = this.#now();
    let looked = 0;
    for (const [channel, log] of this.#logs) {
      if (channel === current || looked++ >= SWEEP) break;
      if (now >= log.forgetAt) {
        this.#forget(log);
        this.#logs.delete(channel);
      } else if (now >= log.dropAt) this.#dropAll(log);
    }
    while (this.#logs.size > this.#maxChannels || this.#bytes > this.#maxBytes) {
      const [channel, log] = this.#logs.entries().next().value as [string, Log];
      if (channel !== current) {
        this.#forget(log);
        this.#logs.delete(channel);
      } else if (log.entries.length > log.head) this.#dropOldest(log);
      else break;
    }
  }

  #dropOldest(log: Log): void {
    const entry = log.entries[log.head]!;
    log.head++;
    log.bytes -= entry.body.length;
    this.#bytes -= entry.body.length;
    // Compact now and then so the array does not keep every publication ever made.
    if (log.head > 64 && log.head * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.head);
      log.head = 0;
    }
  }

  #dropAll(log: Log): void {
    this.#bytes -= log.bytes;
    log.bytes = 0;
    log.entries = [];
    log.head = 0;
    log.dropAt = Infinity;
  }

  #forget(log: Log): void {
    this.#bytes -= log.bytes;
    log.bytes = 0;
  }
}
