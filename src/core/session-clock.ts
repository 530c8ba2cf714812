/**
 * Session deadlines (expiry and the warning before it) for every socket of a gateway on one timer.
 * `exp` is in whole epoch seconds, so sockets are kept in buckets by second and a single timeout
 * aims at the earliest bucket. Two timers per socket cost more memory than the rest of an idle
 * connection's own state (on Node every distinct delay also gets its own timer list). A bucket is
 * an array and each watcher keeps its index in it (a Set entry cost ~130 B of JSC heap per socket):
 * a watcher waits for one second at a time.
 */
export interface SessionClockWatcher {
  /** A second this watcher was added for has come (`now` in ms); it decides what is due. */
  sessionTick(now: number): void;
  /** The clock's bookkeeping, nothing else's: the watcher's index in its second's bucket. */
  clockIndex?: number;
}

/** setTimeout caps delays at 2^31-1 ms (~24.8 days); a later bucket is re-aimed at in steps. */
const MAX_DELAY = 2 ** 31 - 1;

export class SessionClock {
  readonly #buckets = new Map<number, SessionClockWatcher[]>();
  #size = 0;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The second the timer aims at (Infinity when none). */
  #aim = Infinity;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Calls `watcher.sessionTick` once `second` (epoch seconds) has come; delete it from one second before adding it to another. */
  add(second: number, watcher: SessionClockWatcher): void {
    let bucket = this.#buckets.get(second);
    if (bucket === undefined) this.#buckets.set(second, (bucket = []));
    watcher.clockIndex = bucket.length;
    bucket.push(watcher);
    this.#size++;
    if (second < this.#aim) this.#arm(second);
  }

  delete(second: number, watcher: SessionClockWatcher): void {
    const bucket = this.#buckets.get(second);
    const index = watcher.clockIndex ?? -1;
    if (bucket === undefined || bucket[index] !== watcher) return;
    const last = bucket.pop()!; // the last one takes the deleted one's place
    if (last !== watcher) {
      bucket[index] = last;
      last.clockIndex = index;
    }
    this.#size--;
    if (bucket.length > 0) return;
    this.#buckets.delete(second); // if the timer aims at it, it fires, finds nothing and re-aims
    if (this.#buckets.size === 0) this.#disarm(); // nothing waits: no timer holds the process open
  }

  /** Watchers still waiting (for tests and metrics). */
  get size(): number {
    return this.#size;
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#aim = Infinity;
  }

  #arm(second: number): void {
    clearTimeout(this.#timer);
    this.#aim = second;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, Math.min(second * 1000 - this.#now(), MAX_DELAY)));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#aim = Infinity;
    const now = this.#now();
    let next = Infinity;
    for (const [second, bucket] of this.#buckets) {
      if (second * 1000 > now) {
        next = Math.min(next, second);
        continue;
      }
      this.#buckets.delete(second);
      this.#size -= bucket.length;
      for (const watcher of bucket) {
        try {
          watcher.sessionTick(now);
        } catch {
          // One watcher's failure must not stop the others' deadlines (the driver never throws here).
        }
      }
    }
    // Watchers may have added buckets while ticking; those already re-aimed the timer if earlier.
    if (next < this.#aim) this.#arm(next);
  }
}
