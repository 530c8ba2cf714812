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

/** An address with two or more sockets: its count, and the one copy of its string they all share. */
interface SharedIp {
  readonly ip: string;
  held: number;
}

export class ConnectionCounter {
  /**
   * Per IP: a count, or once a second socket came, a `SharedIp` whose string every later socket of
   * that address keeps (`shared`) instead of its request's own copy: memory per idle socket.
   */
  readonly #perIp = new Map<string, number | SharedIp>();
  #total = 0;

  constructor(readonly limits: ConnectionLimits) {}

  /** Takes one slot, or says which cap is full (global first: it is the server's own safety). */
  tryAcquire(ip: string | null): AcquireResult {
    if (this.#total >= this.limits.maxConnections) return 'global_full';
    // An unknown IP cannot be told apart from any other, so it counts only globally.
    if (ip !== null) {
      const entry = this.#perIp.get(ip);
      const held = heldBy(entry);
      if (held >= this.limits.maxConnectionsPerIp) return 'ip_full';
      if (typeof entry === 'object') entry.held += 1;
      else this.#perIp.set(ip, held === 0 ? 1 : { ip, held: held + 1 });
    }
    this.#total += 1;
    return 'ok';
  }

  /** Gives one slot back. Callers release once per successful acquire; extra calls are ignored rather than driving counts negative. */
  release(ip: string | null): void {
    if (ip !== null) {
      const entry = this.#perIp.get(ip);
      if (entry === undefined) return;
      if (heldBy(entry) <= 1) this.#perIp.delete(ip);
      else if (typeof entry === 'object') entry.held -= 1;
      else this.#perIp.set(ip, entry - 1);
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
    return heldBy(this.#perIp.get(ip));
  }

  /** The copy of `ip` its address's sockets share (equal to `ip`); `ip` itself while it has fewer than two. */
  shared(ip: string): string {
    const entry = this.#perIp.get(ip);
    return typeof entry === 'object' ? entry.ip : ip;
  }
}

function heldBy(entry: number | SharedIp | undefined): number {
  return entry === undefined ? 0 : typeof entry === 'number' ? entry : entry.held;
}
