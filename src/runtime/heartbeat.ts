/**
 * Dead-peer reaping, the `ws` recipe with times: a socket is pinged once `intervalMs` has passed
 * since its last pong, and terminated (no close frame; both sides see 1006) if that ping is still
 * unanswered `timeoutMs` later. Only a pong counts as an answer. Used on Node (`ws`) and on Bun
 * (instead of Bun's `sendPings`, whose pings go out in uWS's 4 s timer steps: thousands of sockets
 * in one native loop, which tripled a probe's p99 at 19,000 idle sockets).
 *
 * Sockets wait in two insertion-ordered maps, `idle` (by when they last answered) and `awaiting`
 * (by when their ping went out), so each tick looks only at the heads that are due instead of
 * walking every socket. Pings per tick are capped: sockets that connected together are pinged
 * over several ticks, not in one synchronous loop that stalls every other socket.
 */
export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** What the heartbeat needs of a socket. */
export interface Pingable {
  ping(): void;
  terminate(): void;
}

/** Short ticks with small batches: each tick's pings are one synchronous loop that others wait behind. */
const TICK_MS = 10;
/** At least this many pings per tick, and twice the steady-state rate (all sockets once per interval). */
const MIN_PINGS_PER_TICK = 20;

export class Heartbeat<S extends Pingable> {
  readonly #idle = new Map<S, number>();
  readonly #awaiting = new Map<S, number>();
  readonly #options: HeartbeatOptions;
  readonly #tick: ReturnType<typeof setInterval>;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
    this.#tick = setInterval(() => this.#beat(), Math.min(TICK_MS, options.intervalMs, options.timeoutMs));
    (this.#tick as { unref?: () => void }).unref?.();
  }

  /** A socket opened: its first ping is due one interval from now. */
  add(socket: S): void {
    this.#idle.set(socket, Date.now());
  }

  /** A pong arrived. */
  answered(socket: S): void {
    if (!this.#awaiting.delete(socket) && !this.#idle.has(socket)) return; // closed meanwhile
    this.#idle.delete(socket); // re-inserted at the tail: the most recently answered
    this.#idle.set(socket, Date.now());
  }

  /** The socket closed. */
  remove(socket: S): void {
    this.#idle.delete(socket);
    this.#awaiting.delete(socket);
  }

  stop(): void {
    clearInterval(this.#tick);
  }

  #beat(): void {
    const { intervalMs, timeoutMs } = this.#options;
    const now = Date.now();
    for (const [socket, pingedAt] of this.#awaiting) {
      if (now - pingedAt < timeoutMs) break;
      this.#awaiting.delete(socket);
      socket.terminate();
    }
    let budget = Math.max(MIN_PINGS_PER_TICK, Math.ceil(((this.#idle.size + this.#awaiting.size) * TICK_MS * 2) / intervalMs));
    for (const [socket, answeredAt] of this.#idle) {
      if (now - answeredAt < intervalMs || budget-- === 0) break;
      this.#idle.delete(socket);
      this.#awaiting.set(socket, now);
      socket.ping();
    }
  }
}
