/**
 * Bun's native topics as the gateway's fan-out: `ws.subscribe(topic)` per socket and one
 * `server.publish(topic, text)` per message, the frame built once in native code.
 *
 * What Bun 1.4.5 does with a socket that does not read (test/integration/bun-topics.test.ts runs
 * the probe on the Bun we ship): `publish` writes to each subscriber whose send buffer is at most
 * `backpressureLimit`; past it, the text is dropped for that socket, silently, and the socket
 * stays open. `publish` returns the bytes when every subscriber took it at once, -1 when one
 * queued it, and 0 when one dropped it (or no one is subscribed) — and a 0 came only while some
 * subscriber's `getBufferedAmount()` was past the limit. So the listener sets `backpressureLimit`
 * to `--max-buffered` (bun.ts; the gateway's cap must not be above it, or a drop could go
 * unnoticed), and a 0 makes the caller look at every subscriber's buffer in the same tick: the one
 * that dropped the text is past the cap and is closed as a slow consumer (4413) and leaves the
 * topic before anything else can reach it. Its client has a gapless prefix of the channel and a
 * close that says so, as with one send per socket. A -1 is not looked into (that would be a walk
 * of every subscriber whenever one has a backlog): a publish can take a socket past the cap by at
 * most that one text, and the next publish drops for it and closes it.
 */
import type { SocketPort, SocketTopics } from '../core/socket-port.ts';
import { BunSocketPort, type BunSocketLike, type TopicPublisher } from './bun-socket-port.ts';

/** What the topics use of Bun's ServerWebSocket, beyond the port's. */
interface SubscribingSocket extends BunSocketLike {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/** Bun's ServerWebSocket `readyState` while it is open. */
const BUN_OPEN = 1;

export class BunTopics implements SocketTopics {
  /** Per topic, the server its subscribers belong to and how many there are. */
  readonly #topics = new Map<string, { readonly server: TopicPublisher; count: number }>();

  subscribe(port: SocketPort, topic: string): boolean {
    if (!(port instanceof BunSocketPort) || port.publisher === undefined || port.raw.readyState !== BUN_OPEN) return false;
    const entry = this.#topics.get(topic);
    // One server per topic: a socket of another listener is sent to one by one.
    if (entry !== undefined && entry.server !== port.publisher) return false;
    (port.raw as SubscribingSocket).subscribe(topic);
    if (entry === undefined) this.#topics.set(topic, { server: port.publisher, count: 1 });
    else entry.count++;
    return true;
  }

  /** Called once for each subscribe that returned true (by the connection), also after the socket closed. */
  unsubscribe(port: SocketPort, topic: string): void {
    if (!(port instanceof BunSocketPort)) return;
    (port.raw as SubscribingSocket).unsubscribe(topic); // a no-op on a closed socket (Bun dropped its topics)
    const entry = this.#topics.get(topic);
    if (entry !== undefined && --entry.count <= 0) this.#topics.delete(topic);
  }

  publish(topic: string, text: string, maxBufferedBytes: number): boolean {
    const entry = this.#topics.get(topic);
    if (entry === undefined) return true;
    const result = entry.server.publish(topic, text);
    // -1: someone queued it, under Bun's limit; that is within ours only if ours is not lower.
    return result > 0 || (result === -1 && maxBufferedBytes >= entry.server.backpressureLimit);
  }
}
