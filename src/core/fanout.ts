/**
 * One message to many connections through the runtime's own fan-out (SocketTopics: Bun's native
 * topics, Node's one frame for every socket), with each connection's send-buffer cap kept: when the
 * runtime says a socket may be past it, every connection in the topic is checked in the same tick
 * and the slow consumers are closed (4413), as a send one by one would have.
 */
import { encode } from '../protocol/encode.ts';
import type { OutboundMessage } from '../protocol/messages.ts';
import { utf8ByteLength } from '../protocol/parse.ts';
import type { HandlerContext } from './handler.ts';
import type { GatewayObserver } from './observer.ts';
import type { SocketTopics } from './socket-port.ts';

/** What a connection offers the fan-out (core/connection.ts); a context without it is sent to one by one. */
export interface TopicMember {
  /** Subscribes its socket to a runtime topic; false when it cannot. */
  joinTopic(topics: SocketTopics, topic: string): boolean;
  leaveTopic(topics: SocketTopics, topic: string): void;
  /** Closes it as a slow consumer (4413) when its send buffer is past its cap. */
  checkSendBuffer(): void;
}

const asMember = (ctx: HandlerContext): TopicMember | undefined =>
  typeof (ctx as Partial<TopicMember>).joinTopic === 'function' ? (ctx as HandlerContext & TopicMember) : undefined;

export class Fanout {
  /** Topic names of this fan-out only: gateways sharing a runtime (one Bun server) do not hear each other. */
  readonly #prefix = `${crypto.randomUUID().slice(0, 8)}:`;

  constructor(
    private readonly topics: SocketTopics,
    /** The gateway's `maxBufferedBytes` (the same cap its connections keep). */
    private readonly maxBufferedBytes: number,
    private readonly observer?: Pick<GatewayObserver, 'messageOut'>,
  ) {}

  /** The runtime topic for a name (a channel). */
  topic(name: string): string {
    return this.#prefix + name;
  }

  /** Joins the connection's socket to the topic; false when it cannot (then send to it one by one). */
  join(ctx: HandlerContext, topic: string): boolean {
    return asMember(ctx)?.joinTopic(this.topics, topic) ?? false;
  }

  leave(ctx: HandlerContext, topic: string): void {
    asMember(ctx)?.leaveTopic(this.topics, topic);
  }

  /**
   * Sends the message to every connection joined to the topic (`count` of them). `members` lists
   * them; it is walked only when a send buffer may be past the cap.
   */
  publish(topic: string, message: OutboundMessage, count: number, members: () => Iterable<HandlerContext>): void {
    const text = encode(message);
    const within = this.topics.publish(topic, text, this.maxBufferedBytes);
    this.observer?.messageOut?.(utf8ByteLength(text), count);
    if (within) return;
    for (const ctx of members()) asMember(ctx)?.checkSendBuffer();
  }
}

/** The gateway's fan-out over the runtime's topics, or undefined where the runtime has none. */
export function createFanout(
  topics: SocketTopics | undefined,
  maxBufferedBytes: number,
  observer?: Pick<GatewayObserver, 'messageOut'>,
): Fanout | undefined {
  return topics === undefined ? undefined : new Fanout(topics, maxBufferedBytes, observer);
}
