/**
 * What the client knows about when its login session ends: `exp` from `auth.ok` and
 * `session.refreshed`, the latest `sessionExp` a ticket response reported, and whether the current
 * exp is final (a refresh found it cannot move). This is what lets a warning lead to at most one
 * refresh, lets a refresh be skipped when the new ticket's session ends no later, and tells a
 * session that expired from one that lives on.
 */
export class SessionEnd {
  #exp: number | null = null;
  /** The latest session end a ticket response reported (epoch seconds). */
  #latestGranted: number | null = null;
  /** An exp a refresh could not move: no refresh is tried for it again. */
  #final: number | null = null;

  /** Session end in epoch seconds, from `auth.ok` or the last refresh. */
  get exp(): number | null {
    return this.#exp;
  }

  /** `auth.ok` (or a refresh reply) set the socket's session end. */
  set(exp: number | null): void {
    this.#exp = exp;
  }

  /** A ticket response reported the session's end (undefined: the endpoint did not say). */
  granted(sessionExp: number | undefined): void {
    if (sessionExp !== undefined) this.#latestGranted = Math.max(this.#latestGranted ?? 0, sessionExp);
  }

  /** Whether a refresh is still worth a ticket: there is an exp, and it is not known to be final. */
  get refreshWorthTrying(): boolean {
    return this.#exp !== null && this.#final !== this.#exp;
  }

  /** Whether a ticket whose session ends at `sessionExp` would move exp (unknown: assume it would). */
  wouldExtend(sessionExp: number | undefined): boolean {
    return sessionExp === undefined || this.#exp === null || sessionExp > this.#exp;
  }

  /** A refresh's outcome: the exp moved (`refreshed`), or it cannot move any more (`final`). */
  refreshed(newExp: number | null): 'refreshed' | 'final' {
    const before = this.#exp;
    if (newExp !== null) this.#exp = newExp;
    if (before === null || this.#exp === null || this.#exp > before) return 'refreshed';
    this.#final = this.#exp;
    return 'final';
  }

  /** The new ticket's session ends no later than exp: exp is as far as this session goes. */
  reachedLimit(): void {
    this.#final = this.#exp;
  }

  /** After a 4410: whether a ticket response showed the session lasting past the exp that just passed. */
  get outlivesExp(): boolean {
    return this.#exp !== null && this.#latestGranted !== null && this.#latestGranted > this.#exp;
  }

  /** Whether the known exp has passed at `nowMs` (a 401 then means the session expired, not a logout). */
  endedBy(nowMs: number): boolean {
    return this.#exp !== null && this.#exp * 1000 <= nowMs;
  }
}
