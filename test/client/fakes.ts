/** A fake clock and a fake WebSocket for the SDK's unit tests: no sockets, no real waiting. */
import type { Clock, TicketGrant, WebSocketLike } from '../../src/client/index.ts';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  #now = 1_700_000_000_000;
  #seq = 0;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: ++this.#seq, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return timer.id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }
  get pending(): number {
    return this.#timers.length;
  }
  /** Moves time forward, running each due timer in order (and the promise jobs it starts). */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.fn();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets pending promise jobs (getTicket, request settlements) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

type Listener = (event: never) => void;

export class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  static reset(): void {
    FakeSocket.instances = [];
    FakeSocket.onSend = null;
  }
  static get last(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (!socket) throw new Error('no socket was created');
    return socket;
  }

  /** Called with every frame the client sends (a fake server answers from here). */
  static onSend: ((socket: FakeSocket, frame: Record<string, unknown>) => void) | null = null;

  readyState = 0;
  readonly sent: string[] = [];
  closedByClient: { code?: number; reason?: string } | null = null;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('fake socket: send while not open');
    this.sent.push(data);
    FakeSocket.onSend?.(this, JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.#emit('close', { code: code ?? 1005, reason: reason ?? '' }));
  }

  /** The frames sent, parsed. */
  get frames(): Record<string, unknown>[] {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }

  // ---- server side ----
  open(): void {
    this.readyState = 1;
    this.#emit('open', {});
  }
  receive(message: unknown): void {
    this.#emit('message', { data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
  /** auth.ok for the auth frame this socket got. */
  authOk(sub = 'demo', exp = Math.floor(Date.now() / 1000) + 3600): void {
    this.receive({ type: 'auth.ok', sub, exp });
  }
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.#emit('close', { code, reason });
  }
  /** The connection failed before or after opening, as runtimes report it. */
  drop(): void {
    this.readyState = 3;
    this.#emit('error', {});
    this.#emit('close', { code: 1006, reason: '' });
  }

  #emit(type: string, event: object): void {
    for (const listener of this.#listeners.get(type) ?? []) (listener as (e: object) => void)(event);
  }
}

/** A ticket source handing out distinct, recognisable tickets (so tests can look for leaks). */
export function ticketSource(prefix = 'tkt') {
  const issued: string[] = [];
  let failNext: unknown[] = [];
  /** When set, tickets come as `{ticket, sessionExp}` grants (what fetchTicket returns). */
  const state: { sessionExp?: number } = {};
  const getTicket = async (): Promise<string | TicketGrant> => {
    // Answer a tick later, like a real fetch: failWith() right after connect() still applies.
    await Promise.resolve();
    const failure = failNext.shift();
    if (failure !== undefined) throw failure;
    const ticket = `${prefix}-SECRET-${issued.length + 1}-${'x'.repeat(24)}`;
    issued.push(ticket);
    return state.sessionExp === undefined ? ticket : { ticket, sessionExp: state.sessionExp };
  };
  return {
    getTicket,
    issued,
    /** Makes the following tickets report this session end (undefined: plain strings again). */
    reportSessionEnd(sessionExp: number | undefined) {
      state.sessionExp = sessionExp;
    },
    /** The next calls throw these, in order. */
    failWith(...errors: unknown[]) {
      failNext = [...failNext, ...errors];
    },
  };
}

/** Captures every log line as text. */
export function captureLogger() {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, logger: { debug: write('debug'), info: write('info'), warn: write('warn') } };
}
