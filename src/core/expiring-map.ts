/**
 * A Map of records that expire (`exp`, epoch ms), with bounded memory: expired entries are swept
 * lazily on `set` (no timers: nothing keeps the process alive or runs while idle), and past
 * `maxEntries` a new key is refused rather than growing the map.
 */

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

export class ExpiringMap<V extends { readonly exp: number }> {
  readonly #records = new Map<string, V>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    readonly name: string,
    options: MemoryStoreOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** Entries held, live or not yet swept. */
  get size(): number {
    return this.#records.size;
  }

  set(key: string, value: V): void {
    const now = this.#now();
    if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
      this.#lastSweep = now;
      for (const [k, v] of this.#records) if (v.exp <= now) this.#records.delete(k);
    }
    if (!this.#records.has(key) && this.#records.size >= this.#maxEntries) throw new StoreFullError(this.name);
    this.#records.set(key, value);
  }

  /** The live value; an expired one is deleted and reads as absent. */
  get(key: string): V | null {
    const value = this.#records.get(key);
    if (value === undefined) return null;
    if (value.exp <= this.#now()) {
      this.#records.delete(key);
      return null;
    }
    return value;
  }

  /** Removes and returns the value, expired or not (one synchronous step, so atomic in-process). */
  take(key: string): V | null {
    const value = this.#records.get(key);
    if (value === undefined) return null;
    this.#records.delete(key);
    return value;
  }

  delete(key: string): void {
    this.#records.delete(key);
  }

  clear(): void {
    this.#records.clear();
  }
}
