/**
 * Dead-peer reaping, the `ws` recipe with times: a socket is pinged once `intervalMs` has passed
 * since its last pong, and terminated (no close frame; both sides see 1006) if that ping is still
 * unanswered `timeoutMs` later. Only a pong counts as an answer. Used on Node (`ws`) and on Bun
 * (instead of Bun's `sendPings`, whose pings go out in uWS's 4 s timer steps: thousands of sockets
 * in one native loop, which tripled a probe's p99 at 19,000 idle sockets).
 *
 * Sockets wait in two lists in time order, `idle` (by when they last answered) and `awaiting`
 * (by when their ping went out), so each tick looks only at the heads that are due instead of
 * walking every socket. Pings per tick are capped: sockets that connected together are pinged
 * over several ticks, not in one synchronous loop that stalls every other socket. The lists are
 * linked through fields of the sockets themselves: a Map entry per socket cost ~170 B of JSC heap.
 */
export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** What the heartbeat needs of a socket. */
export interface Pingable {
  ping(): void;
  terminate(): void;
  /** The heartbeat's own bookkeeping on the socket (nothing else touches it): its list, neighbours and time. */
  beatList?: BeatList | undefined;
  beatPrev?: Pingable | undefined;
  beatNext?: Pingable | undefined;
  beatAt?: number;
}

/** A doubly-linked list through the sockets' `beat*` fields, in the order they were pushed. */
export class BeatList {
  head: Pingable | undefined;
  tail: Pingable | undefined;
  size = 0;

  push(socket: Pingable, at: number): void {
    socket.beatList = this;
    socket.beatAt = at;
    socket.beatPrev = this.tail;
    socket.beatNext = undefined;
    if (this.tail === undefined) this.head = socket;
    else this.tail.beatNext = socket;
    this.tail = socket;
    this.size++;
  }

  remove(socket: Pingable): void {
    const { beatPrev: prev, beatNext: next } = socket;
    if (prev === undefined) this.head = next;
    else prev.beatNext = next;
    if (next === undefined) this.tail = prev;
    else next.beatPrev = prev;
    socket.beatList = socket.beatPrev = socket.beatNext = undefined;
    this.size--;
  }
}

/** Short ticks with small batches: each tick's pings are one synchronous loop that others wait behind. */
const TICK_MS = 10;
/** At least this many pings per tick, and twice the steady-state rate (all sockets once per interval). */
const MIN_PINGS_PER_TICK = 20;

export class Heartbeat<S extends Pingable> {
  readonly #idle = new BeatList();
  readonly #awaiting = new BeatList();
  readonly #options: HeartbeatOptions;
  readonly #tick: ReturnType<typeof setInterval>;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
    this.#tick = setInterval(() => this.#beat(), Math.min(TICK_MS, options.intervalMs, options.timeoutMs));
    (this.#tick as { unref?: () => void }).unref?.();
  }

  /** A socket opened: its first ping is due one interval from now. */
  add(socket: S): void {
    socket.beatList?.remove(socket);
    this.#idle.push(socket, Date.now());
  }

  /** A pong arrived. */
  answered(socket: S): void {
    const list = socket.beatList;
    if (list !== this.#idle && list !== this.#awaiting) return; // closed meanwhile
    list.remove(socket);
    this.#idle.push(socket, Date.now()); // at the tail: the most recently answered
  }

  /** The socket closed. */
  remove(socket: S): void {
    const list = socket.beatList;
    if (list === this.#idle || list === this.#awaiting) list.remove(socket);
  }

  stop(): void {
    clearInterval(this.#tick);
  }

  #beat(): void {
    const { intervalMs, timeoutMs } = this.#options;
    const now = Date.now();
    for (let socket = this.#awaiting.head; socket !== undefined; socket = this.#awaiting.head) {
      if (now - socket.beatAt! < timeoutMs) break;
      this.#awaiting.remove(socket);
      socket.terminate();
    }
    let budget = Math.max(MIN_PINGS_PER_TICK, Math.ceil(((this.#idle.size + this.#awaiting.size) * TICK_MS * 2) / intervalMs));
    for (let socket = this.#idle.head; socket !== undefined; socket = this.#idle.head) {
      if (now - socket.beatAt! < intervalMs || budget-- === 0) break;
      this.#idle.remove(socket);
      this.#awaiting.push(socket, now);
      socket.ping();
    }
  }
}
