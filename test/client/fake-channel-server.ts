/**
 * A fake server for one channel in a namespace with history, recovery and presence, answering the
 * SDK over FakeSockets as DELIVERY-PROTOCOL.md says the real one does: publish → stored with an
 * offset, subscribe with `since` → the missed publications then `ok {recovered}`, history pages,
 * presence. Tests can hold requests of some types to answer them by hand, and drop live deliveries
 * to make gaps.
 */
import { FakeSocket } from './fakes.ts';

export interface Stored {
  readonly data: unknown;
  readonly from: string;
  readonly offset: number;
}

type Frame = Record<string, unknown>;

export class FakeChannelServer {
  epoch = 'epoch-1';
  /** The newest publications kept, ascending. */
  stored: Stored[] = [];
  /** The offset of the latest publication (0: none yet in this epoch). */
  top = 0;
  historySize = 100;
  /** false: a namespace with history but recovery off (`since` → recovery_disabled). */
  recovery = true;
  /** false: a live-only namespace (no offsets at all). */
  history = true;
  clients: { sub: string; conn: string; info?: Record<string, unknown> }[] = [];
  /** Request types answered by hand (`answerHeld`) instead of at once. */
  readonly holdTypes = new Set<string>();
  readonly held: { socket: FakeSocket; frame: Frame }[] = [];
  /** Every request the server saw, in order (auth frames left out). */
  readonly requests: Frame[] = [];
  readonly #subscribers = new Set<FakeSocket>();

  constructor(readonly channel = 'chat:lobby') {
    // Answered a tick later, like a network: the client is never re-entered from its own send().
    FakeSocket.onSend = (socket, frame) => queueMicrotask(() => this.#handle(socket, frame));
  }

  /** Stores a publication and delivers it live to the subscribed sockets, except those in `skip`. */
  publish(data: unknown, from = 'alice', skip: readonly FakeSocket[] = []): number {
    if (!this.history) {
      for (const socket of this.#live()) if (!skip.includes(socket)) socket.receive({ type: 'message', channel: this.channel, data, from });
      return 0;
    }
    const offset = ++this.top;
    this.stored.push({ data, from, offset });
    if (this.stored.length > this.historySize) this.stored.shift();
    for (const socket of this.#live()) if (!skip.includes(socket)) socket.receive(this.#message({ data, from, offset }));
    return offset;
  }

  /** The stream lost its data: a new epoch, offsets from 1 again, a resync to every subscriber. */
  resetStream(epoch: string, notify = true): void {
    this.epoch = epoch;
    this.stored = [];
    this.top = 0;
    if (notify) for (const socket of this.#live()) socket.receive({ type: 'resync', channel: this.channel, epoch });
  }

  /** Answers the held requests (all, or those of one type) now. */
  answerHeld(type?: string): void {
    const now = this.held.filter((h) => type === undefined || h.frame.type === type);
    for (const h of now) {
      this.held.splice(this.held.indexOf(h), 1);
      this.answer(h.socket, h.frame);
    }
  }

  /** Sends `join`/`leave` to the subscribers. */
  announce(type: 'join' | 'leave', sub: string, conn: string): void {
    for (const socket of this.#live()) socket.receive({ type, channel: this.channel, sub, conn });
  }

  answer(socket: FakeSocket, frame: Frame): void {
    const id = frame.id;
    const reply = (body: Frame): void => {
      if (socket.readyState === 1) socket.receive({ ...body, id });
    };
    switch (frame.type) {
      case 'subscribe': {
        this.#subscribers.add(socket);
        const since = frame.since as { offset: number; epoch: string } | undefined;
        if (!this.history) return reply({ type: 'ok' });
        if (since === undefined) return reply({ type: 'ok', offset: this.top, epoch: this.epoch });
        if (!this.recovery) {
          this.#subscribers.delete(socket);
          return reply({ type: 'error', code: 'recovery_disabled' });
        }
        const recovered = since.epoch === this.epoch && since.offset >= this.#oldest() - 1 && since.offset <= this.top;
        if (recovered) for (const p of this.stored) if (p.offset > since.offset) socket.receive(this.#message(p));
        return reply({ type: 'ok', recovered, offset: this.top, epoch: this.epoch });
      }
      case 'unsubscribe':
        this.#subscribers.delete(socket);
        return reply({ type: 'ok' });
      case 'publish': {
        const offset = this.publish(frame.data, 'demo');
        return reply(this.history ? { type: 'ok', offset, epoch: this.epoch } : { type: 'ok' });
      }
      case 'history': {
        if (!this.history) return reply({ type: 'error', code: 'history_disabled' });
        const since = frame.since as { offset: number; epoch: string } | undefined;
        const limit = typeof frame.limit === 'number' ? frame.limit : 100;
        const complete = since === undefined || (since.epoch === this.epoch && since.offset >= this.#oldest() - 1);
        const after = since?.offset ?? 0;
        const publications = complete ? this.stored.filter((p) => p.offset > after).slice(0, limit) : [];
        return reply({ type: 'history', channel: frame.channel, publications, offset: this.top, epoch: this.epoch, complete });
      }
      case 'presence':
        return reply({ type: 'presence', channel: frame.channel, clients: this.clients, total: this.clients.length });
      case 'presence_stats':
        return reply({
          type: 'presence_stats',
          channel: frame.channel,
          connections: this.clients.length,
          users: new Set(this.clients.map((c) => c.sub)).size,
        });
      default:
        return reply({ type: 'error', code: 'unknown_type' });
    }
  }

  #handle(socket: FakeSocket, frame: Frame): void {
    if (frame.type === 'auth') return;
    this.requests.push(frame);
    if (this.holdTypes.has(String(frame.type))) this.held.push({ socket, frame });
    else this.answer(socket, frame);
  }

  #oldest(): number {
    return this.stored[0]?.offset ?? this.top + 1;
  }

  #message(p: Stored): Frame {
    return { type: 'message', channel: this.channel, data: p.data, from: p.from, offset: p.offset, epoch: this.epoch };
  }

  #live(): FakeSocket[] {
    return [...this.#subscribers].filter((socket) => socket.readyState === 1);
  }
}
