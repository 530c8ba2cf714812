/** The ticket store in this process (the embedded default). */
import { ExpiringMap, type MemoryStoreOptions } from '../../core/expiring-map.ts';
import type { TicketRecord, TicketStore } from '../../auth-service/ticket-store.ts';

export { StoreFullError, SWEEP_INTERVAL_MS, DEFAULT_MAX_ENTRIES, type MemoryStoreOptions } from '../../core/expiring-map.ts';

/**
 * Single-process ticket store. `take` returns expired records too (the caller reports `expired`);
 * the cap bounds memory even when tickets are issued faster than they expire.
 */
export class MemoryTicketStore implements TicketStore {
  readonly #records: ExpiringMap<TicketRecord>;

  constructor(options: MemoryStoreOptions = {}) {
    this.#records = new ExpiringMap('ticket store', options);
  }

  /** Number of records held (live or not yet swept); for tests and metrics. */
  get size(): number {
    return this.#records.size;
  }

  async put(ticket: string, record: TicketRecord): Promise<void> {
    this.#records.set(ticket, record);
  }

  async take(ticket: string): Promise<TicketRecord | null> {
    return this.#records.take(ticket);
  }

  async close(): Promise<void> {
    this.#records.clear();
  }
}
