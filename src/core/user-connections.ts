/**
 * Counts each user's open sockets across every instance, so the per-user cap holds cluster-wide.
 * `memory` (one process) and `redis` (leases that expire if an instance dies) implement it.
 */
export interface UserConnections {
  /** Records `connectionId` for `sub` if fewer than `max` are open; false when the cap is reached. Rejects when unavailable. */
  acquire(sub: string, connectionId: string, max: number): Promise<boolean>;
  /** Forgets the connection (idempotent). Never rejects. */
  release(sub: string, connectionId: string): Promise<void>;
  close(): Promise<void>;
}
