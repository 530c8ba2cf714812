import type { TicketRecord, TicketStore } from './ticket-store.ts';

/** Thrown by a store that refuses new entries; the auth service maps `store_full` to 503. */
export class StoreFullError extends Error {
  readonly code = 'store_full';
  constructor(store: string) {
    super(`${store} is full`);
    this.name = 'StoreFullError';
  }
}

export interface MemoryStoreOptions {
  /** Clock, injectable for tests. Default Date.now. */
  now?: () => number;
  /** Hard cap on live entries; a `put` beyond it throws `store_full`. Default 100_000. */
  maxEntries?: number;
}

/** Sweeps run at most this often, so a burst of puts never turns into a burst of full scans. */
export const SWEEP_INTERVAL_MS = 1000;

export const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * Single-process ticket store. Expired records are swept lazily from `put` (no timers, so
 * nothing keeps the process alive and nothing runs while idle); the cap bounds memory even
 * when tickets are issued faster than they expire.
 */
export class MemoryTicketStore implements TicketStore {
  readonly #records = new Map<string, TicketRecord>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** Number of records held (live or not yet swept); for tests and metrics. */
  get size(): number {
    return this.#records.size;
  }

  async put(ticket: string, record: TicketRecord): Promise<void> {
    const now = this.#now();
    if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
      this.#lastSweep = now;
      for (const [key, value] of this.#records) {
        if (value.exp <= now) this.#records.delete(key);
      }
    }
    if (!this.#records.has(ticket) && this.#records.size >= this.#maxEntries) {
      throw new StoreFullError('ticket store');
    }
    this.#records.set(ticket, record);
  }

  async take(ticket: string): Promise<TicketRecord | null> {
    // Get and delete in one synchronous step: no await between them, so it is atomic here.
    const record = this.#records.get(ticket);
    if (record === undefined) return null;
    this.#records.delete(ticket);
    return record;
  }

  async close(): Promise<void> {
    this.#records.clear();
  }
}
