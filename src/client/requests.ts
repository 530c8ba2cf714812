/**
 * Requests waiting for their reply, by `id`. Each has its own timeout; a reply, a timeout, the
 * socket that carried it closing, or the client closing settles it exactly once.
 */
import { ClientError } from './errors.ts';
import type { Clock, Reply } from './types.ts';

interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: ClientError) => void;
  readonly timer: unknown;
  /** The connection attempt it was written to; undefined while it waits in the pre-auth queue. */
  sentOn?: number;
}

export class RequestTable {
  readonly #pending = new Map<number, Pending>();
  readonly #clock: Clock;
  /** Told when a request times out, so a copy still waiting in the send queue is dropped. */
  readonly #onTimeout: (id: number) => void;
  #nextId = 1;

  constructor(clock: Clock, onTimeout: (id: number) => void = () => {}) {
    this.#clock = clock;
    this.#onTimeout = onTimeout;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Registers a request; returns its id and the promise of its reply. */
  open(timeoutMs: number): { id: number; reply: Promise<Reply> } {
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#onTimeout(id);
        this.#fail(id, new ClientError('timeout', `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
    return { id, reply };
  }

  markSent(id: number, attempt: number): void {
    const pending = this.#pending.get(id);
    if (pending !== undefined) pending.sentOn = attempt;
  }

  /** Settles the request this message answers; false when it answers none (then it is a push). */
  settle(message: Reply): boolean {
    const id = message.id;
    if (typeof id !== 'number') return false;
    const pending = this.#pending.get(id);
    if (pending === undefined) return false;
    this.#drop(id, pending);
    if (message.type === 'error') {
      const code = typeof message.code === 'string' ? message.code : 'unknown';
      pending.reject(new ClientError('server_error', `the server refused the request: ${code}`, code));
    } else {
      pending.resolve(message);
    }
    return true;
  }

  /** Fails the requests written to a connection that ended: their replies can no longer come. */
  failSentOn(attempt: number): void {
    for (const [id, pending] of this.#pending) {
      if (pending.sentOn === attempt) this.#fail(id, new ClientError('connection_lost', 'the connection closed before the reply arrived'));
    }
  }

  failAll(error: ClientError): void {
    for (const id of [...this.#pending.keys()]) this.#fail(id, error);
  }

  cancel(id: number, error: ClientError): void {
    this.#fail(id, error);
  }

  #fail(id: number, error: ClientError): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#drop(id, pending);
    pending.reject(error);
  }

  #drop(id: number, pending: Pending): void {
    this.#clock.clearTimeout(pending.timer);
    this.#pending.delete(id);
  }
}
