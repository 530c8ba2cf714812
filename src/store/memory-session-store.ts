import { ExpiringMap, type MemoryStoreOptions } from './expiring-map.ts';
import type { SessionRecord, SessionStore } from './session-store.ts';

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

  async delete(sid: string): Promise<void> {
    this.#records.delete(sid);
  }

  async close(): Promise<void> {
    this.#records.clear();
  }
}
