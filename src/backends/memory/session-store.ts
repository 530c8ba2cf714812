/** The login-session store in this process (the embedded default). */
import { ExpiringMap, type MemoryStoreOptions } from '../../core/expiring-map.ts';
import type { SessionRecord, SessionStore } from '../../auth-service/session-store.ts';

/** Single-process login-session store; `get` never returns an expired session, swept or not. */
export class MemorySessionStore implements SessionStore {
  readonly #records: ExpiringMap<SessionRecord>;

  constructor(options: MemoryStoreOptions = {}) {
    this.#records = new ExpiringMap('session store', options);
  }

  get size(): number {
    return this.#records.size;
  }

  async put(sid: string, record: SessionRecord): Promise<void> {
    this.#records.set(sid, record);
  }

  async get(sid: string): Promise<SessionRecord | null> {
    return this.#records.get(sid);
  }

  /** One synchronous step between the read and the write, so atomic in-process. */
  async extend(sid: string, exp: number): Promise<SessionRecord | null> {
    const record = this.#records.get(sid);
    if (record === null) return null;
    const target = Math.min(exp, record.maxExp ?? record.exp);
    if (target <= record.exp) return record;
    const extended = { ...record, exp: target };
    this.#records.set(sid, extended);
    return extended;
  }

  async delete(sid: string): Promise<void> {
    this.#records.delete(sid);
  }

  async close(): Promise<void> {
    this.#records.clear();
  }
}
