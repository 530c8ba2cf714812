/**
 * Open-socket accounting, globally and per client IP. Memory stays bounded by the number of IPs
 * that hold a socket right now: an entry is deleted when its count returns to zero, so a sweep of
 * one-shot addresses leaves nothing behind.
 */

export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}

export type AcquireResult = 'ok' | 'global_full' | 'ip_full';

export class ConnectionCounter {
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(readonly limits: ConnectionLimits) {}

  /** Takes one slot, or says which cap is full (global first: it is the server's own safety). */
  tryAcquire(ip: string | null): AcquireResult {
    if (this.#total >= this.limits.maxConnections) return 'global_full';
    // An unknown IP cannot be told apart from any other, so it counts only globally.
    if (ip !== null) {
      const held = this.#perIp.get(ip) ?? 0;
      if (held >= this.limits.maxConnectionsPerIp) return 'ip_full';
      this.#perIp.set(ip, held + 1);
    }
    this.#total += 1;
    return 'ok';
  }

  /** Gives one slot back. Callers release once per successful acquire; extra calls are ignored rather than driving counts negative. */
  release(ip: string | null): void {
    if (ip !== null) {
      const held = this.#perIp.get(ip);
      if (held === undefined) return;
      if (held <= 1) this.#perIp.delete(ip);
      else this.#perIp.set(ip, held - 1);
    }
    if (this.#total > 0) this.#total -= 1;
  }

  /** Slots held in total. */
  get total(): number {
    return this.#total;
  }

  /** IPs with at least one slot: the size of the only per-client memory kept here. */
  get trackedIps(): number {
    return this.#perIp.size;
  }

  countFor(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }
}
