import type { SessionRecord, SessionStore } from './session-store.ts';
import {
  DEFAULT_MAX_ENTRIES,
  type MemoryStoreOptions,
  StoreFullError,
  SWEEP_INTERVAL_MS,
} from './memory-ticket-store.ts';

/**
 * Single-process login-session store: same lazy sweeping and hard cap as MemoryTicketStore.
 * `get` never returns an expired session, swept or not.
 */
export class MemorySessionStore implements SessionStore {
  readonly #records = new Map<string, SessionRecord>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  get size(): number {
    return this.#records.size;
  }

  async put(sid: string, record: SessionRecord): Promise<void> {
    const now = this.#now();
    if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
      this.#lastSweep = now;
      for (const [key, value] of this.#records) {
        if (value.exp <= now) this.#records.delete(key);
      }
    }
    if (!this.#records.has(sid) && this.#records.size >= this.#maxEntries) {
      throw new StoreFullError('session store');
    }
    this.#records.set(sid, record);
  }

  async get(sid: string): Promise<SessionRecord | null> {
    const record = this.#records.get(sid);
    if (record === undefined) return null;
    if (record.exp <= this.#now()) {
      this.#records.delete(sid);
      return null;
    }
    return record;
  }

  async delete(sid: string): Promise<void> {
    this.#records.delete(sid);
  }

  async close(): Promise<void> {
    this.#records.clear();
  }
}
