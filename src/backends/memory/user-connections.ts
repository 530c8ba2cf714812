/** One process: the per-user cap is a set of connection ids per user. Nothing expires; release is the only way out. */
import type { UserConnections } from '../../core/user-connections.ts';
import { StringSet } from './string-set.ts';

export class MemoryUserConnections implements UserConnections {
  /** A `StringSet`, not a `Set`: one entry per open socket, about 100 B less each on Bun. */
  readonly #byUser = new Map<string, StringSet>();
  #closed = false;

  async acquire(sub: string, connectionId: string, max: number): Promise<boolean> {
    if (this.#closed) throw Object.assign(new Error('user connections closed'), { code: 'unavailable' });
    let ids = this.#byUser.get(sub);
    if (ids?.has(connectionId)) return true; // acquiring twice is not two connections
    if ((ids?.size ?? 0) >= max) return false;
    if (ids === undefined) this.#byUser.set(sub, (ids = new StringSet()));
    ids.add(connectionId);
    return true;
  }

  async release(sub: string, connectionId: string): Promise<void> {
    const ids = this.#byUser.get(sub);
    if (ids === undefined) return;
    ids.delete(connectionId);
    if (ids.size === 0) this.#byUser.delete(sub); // no empty sets left behind by users who came and went
  }

  /** Connections held for `sub`; for tests and metrics. */
  count(sub: string): number {
    return this.#byUser.get(sub)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#byUser.clear();
  }
}
