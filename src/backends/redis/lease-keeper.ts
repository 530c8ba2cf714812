/**
 * Keeps an instance's leased entries alive in Redis (per-user connection slots, presence entries):
 * a renewal round every leaseMs/3 while any are held; when the link drops, `stale` until a round
 * fully succeeds, with rounds retried meanwhile (250 ms, doubling to 2 s) and one at once when the
 * link is back. A round's script calls may go to different shards of a Cluster: they go out
 * together, and each answers how many entries it had to write back.
 */
import type { Logger } from '../../logging/logger.ts';
import type { RedisClient } from './connect.ts';
import { describe, isReady, watchLinks } from './connect.ts';

/** Retry delays (ms) of a renewal round while entries may be missing: first, cap. */
const RECOVER_MS = [250, 2000] as const;

export interface LeaseKeeperOptions {
  readonly client: RedisClient;
  readonly leaseMs: number;
  readonly log: Logger;
  /** One round's calls: each renews some held entries and resolves with how many it wrote back. */
  readonly renewals: () => Promise<unknown>[];
  /** The warning when entries were missing in Redis and were written back. */
  readonly restoredMessage: string;
}

export class LeaseKeeper {
  #timer: ReturnType<typeof setInterval> | undefined;
  #recovery: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Set when the link dropped; cleared by the first renewal round that succeeds after it. */
  #stale = false;
  /** The round started by a reconnect, while it runs (admissions may wait for it). */
  #afterReconnect: Promise<void> | undefined;
  readonly #unwatch: () => void;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.#unwatch = watchLinks(options.client, {
      lost: () => {
        this.#stale = true;
        this.#recover(RECOVER_MS[0]);
      },
      back: () => {
        if (this.#stale) this.#afterReconnect ??= this.#renew().finally(() => (this.#afterReconnect = undefined));
      },
    });
  }

  /** True until a link drop has been followed by a successful round. */
  get stale(): boolean {
    return this.#stale;
  }

  /** The round a reconnect started, while it runs. */
  get afterReconnect(): Promise<void> | undefined {
    return this.#afterReconnect;
  }

  /** Entries are held: renew them every leaseMs/3 (idempotent). */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => void this.#renew(), Math.floor(this.options.leaseMs / 3));
  }

  /** Nothing is held any more. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.#closed = true;
    this.stop();
    clearTimeout(this.#recovery);
    this.#unwatch();
  }

  #recover(delay: number): void {
    if (this.#closed || this.#recovery !== undefined) return;
    this.#recovery = setTimeout(() => {
      this.#recovery = undefined;
      if (!this.#stale || this.#closed) return;
      void this.#renew().then(() => {
        if (this.#stale) this.#recover(Math.min(delay * 2, RECOVER_MS[1]));
      });
    }, delay);
  }

  async #renew(): Promise<void> {
    if (!isReady(this.options.client) || this.#closed) return;
    const results = await Promise.allSettled(this.options.renewals());
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      this.options.log.warn({ err: describe((failed as PromiseRejectedResult).reason) }, 'lease renewal failed; retrying');
      return;
    }
    this.#stale = false;
    const restored = results.reduce((sum, r) => sum + (r.status === 'fulfilled' && typeof r.value === 'number' ? r.value : 0), 0);
    // Redis lost them (a restart, a failover, or renewals late by more than the lease): they count again from now.
    if (restored > 0) this.options.log.warn({ restored }, this.options.restoredMessage);
  }
}
