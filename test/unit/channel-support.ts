/**
 * What the channel handler tests share: a memory stream the test can disturb (lose notifications,
 * hold or fail reads, report a resumed link), fake connections, and the namespaces they run with.
 */
import { MemoryStream } from '../../src/backends/memory/stream.ts';
import { ChannelNamespaces, type NamespaceOptions } from '../../src/channels/namespaces.ts';
import { StorageError } from '../../src/channels/storage-error.ts';
import type {
  HistoryPolicy,
  Position,
  Publication,
  ReadRequest,
  ReadResult,
  Stream,
  StreamListener,
  StreamPublishOptions,
} from '../../src/channels/stream.ts';
import { Fanout, type TopicMember } from '../../src/core/fanout.ts';
import type { HandlerContext } from '../../src/core/handler.ts';
import type { SendOutcome, SocketPort, SocketTopics } from '../../src/core/socket-port.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import type { InboundMessage, OutboundMessage } from '../../src/protocol/messages.ts';

const ns = (o: Partial<NamespaceOptions>): NamespaceOptions => ({
  historySize: 0,
  historyTtl: 300_000,
  historyMetaTtl: 86_400_000,
  recovery: false,
  presence: false,
  joinLeave: false,
  proxy: 'off',
  ...o,
});

export const namespaces = new ChannelNamespaces({
  chat: ns({ historySize: 100, recovery: true, presence: true, joinLeave: true }),
  small: ns({ historySize: 5, recovery: true }),
  hist: ns({ historySize: 100 }),
  big: ns({ historySize: 5000 }),
  room: ns({ presence: true, joinLeave: true }),
});

/** A MemoryStream with switches: notifications can be lost, reads held or failed, a resumed link reported. */
export class TestStream implements Stream {
  readonly inner = new MemoryStream();
  /** While true, live notifications are lost (as on a Redis subscriber link that is down). */
  muted = false;
  /** While true, every operation rejects `unavailable`. */
  down = false;
  /** While set, reads wait for it. */
  gate: Promise<void> | null = null;
  /** Rewrites a read's result (e.g. a stream that went back). */
  readHook: ((result: ReadResult) => ReadResult) | null = null;
  reads = 0;
  subscribes = 0;
  readonly abandoned: string[] = [];
  readonly #listeners = new Set<StreamListener>();

  get healthy(): boolean {
    return !this.down;
  }

  async publish(
    channel: string,
    message: { readonly data: unknown; readonly from: string },
    history: HistoryPolicy | null,
    options?: StreamPublishOptions,
  ): Promise<Position | null> {
    this.#check();
    return this.inner.publish(channel, message, history, options);
  }

  async read(channel: string, request: ReadRequest, history: HistoryPolicy): Promise<ReadResult> {
    this.reads++;
    if (this.gate) await this.gate;
    this.#check();
    const result = await this.inner.read(channel, request, history);
    return this.readHook ? this.readHook(result) : result;
  }

  async position(channel: string, history: HistoryPolicy): Promise<Position> {
    this.#check();
    return this.inner.position(channel, history);
  }

  async abandonEpoch(channel: string, epoch: string, history: HistoryPolicy): Promise<Position> {
    this.#check();
    this.abandoned.push(epoch);
    return this.inner.abandonEpoch(channel, epoch, history);
  }

  async subscribe(channel: string, listener: StreamListener): Promise<() => void> {
    this.#check();
    this.subscribes++;
    const wrapped: StreamListener = {
      publication: (p: Publication) => {
        if (!this.muted) listener.publication(p);
      },
      resumed: () => listener.resumed(),
    };
    this.#listeners.add(wrapped);
    const stop = await this.inner.subscribe(channel, wrapped);
    return () => {
      this.#listeners.delete(wrapped);
      stop();
    };
  }

  /** Every listener hears `resumed()` (the link is back). */
  resume(): void {
    for (const listener of this.#listeners) listener.resumed();
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  #check(): void {
    if (this.down) throw new StorageError('unavailable', 'test: down');
  }
}

/**
 * A runtime's topics in memory, as Bun's and ws-topics.ts behave: a text published to a topic
 * reaches every subscribed socket at once, in the order of everything else sent to it.
 * channel-handlers-fanout.test.ts switches it on (`fanoutMode.on`) to run the channel tests
 * through it.
 */
export class FakeTopics implements SocketTopics {
  readonly #topics = new Map<string, Set<SocketPort>>();
  publishes = 0;
  subscribe(port: SocketPort, topic: string): boolean {
    let ports = this.#topics.get(topic);
    if (ports === undefined) this.#topics.set(topic, (ports = new Set()));
    ports.add(port);
    return true;
  }
  unsubscribe(port: SocketPort, topic: string): void {
    this.#topics.get(topic)?.delete(port);
  }
  publish(topic: string, text: string): boolean {
    this.publishes++;
    for (const port of this.#topics.get(topic) ?? []) port.send(text);
    return true;
  }
  subscribers(topic?: string): number {
    let n = 0;
    for (const [name, ports] of this.#topics) if (topic === undefined || name.endsWith(`:${topic}`)) n += ports.size;
    return n;
  }
}

export const fanoutMode: { on: boolean; topics: FakeTopics } = { on: false, topics: new FakeTopics() };

/** The fan-out the channel tests pass to channelHandlers when `fanoutMode.on`. */
export const testFanout = (): { fanout?: Fanout } => (fanoutMode.on ? { fanout: new Fanout(fanoutMode.topics, 1 << 20) } : {});

export interface FakeConnection {
  readonly ctx: HandlerContext;
  readonly sent: Record<string, unknown>[];
  close(): void;
  /** Messages of a type (default: deliveries). */
  of(type?: string): Record<string, unknown>[];
}

let connections = 0;
export function fakeConnection(sub: string, claims: Record<string, unknown> = defaultClaims): FakeConnection {
  const sent: Record<string, unknown>[] = [];
  const onClose: (() => void)[] = [];
  let closed = false;
  const id = `conn-${sub}-${++connections}`;
  const ctx: HandlerContext = {
    connectionId: id,
    get identity() {
      if (closed) throw new Error('identity outside authenticated state'); // as Connection does
      return { sub, exp: 0, claims };
    },
    logger: silentLogger,
    get closed() {
      return closed;
    },
    send: (message: OutboundMessage) => {
      if (!closed) sent.push(message as Record<string, unknown>);
    },
    onClose: (callback) => (closed ? callback() : onClose.push(callback)),
  };
  // In fan-out mode, a member of the runtime's topics as Connection is: its socket gets the topic's texts.
  const joined = new Set<string>();
  if (fanoutMode.on) {
    const port: SocketPort = {
      send: (text: string): SendOutcome => (ctx.send(JSON.parse(text) as OutboundMessage), 'sent'),
      close: () => {},
      bufferedAmount: () => 0,
      terminate: () => {},
    };
    const member: TopicMember = {
      joinTopic: (topics, topic) => !closed && (joined.add(topic), topics.subscribe(port, topic)),
      leaveTopic: (topics, topic) => void (joined.delete(topic) && topics.unsubscribe(port, topic)),
      checkSendBuffer: () => {},
    };
    Object.assign(ctx, member);
    onClose.push(() => joined.forEach((topic) => fanoutMode.topics.unsubscribe(port, topic)));
  }
  return {
    ctx,
    sent,
    close: () => {
      closed = true;
      onClose.splice(0).forEach((c) => c());
    },
    of: (type = 'message') => sent.filter((m) => m.type === type),
  };
}

export const defaultClaims = {
  subscribe: ['chat:*', 'small:*', 'hist:*', 'big:*', 'live:*', 'room:*', 'user:{sub}'],
  publish: ['chat:*', 'small:*', 'hist:*', 'big:*', 'live:*', 'room:*'],
};

export const msg = (m: Record<string, unknown>) => m as InboundMessage;

/** Lets queued microtasks and timers of 0 ms run (memory deliveries are microtasks). */
export const settle = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise and the function that resolves it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
