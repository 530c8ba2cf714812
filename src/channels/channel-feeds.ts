/** This instance's channel feeds: one per channel with local subscribers, started by the first and closed after the last. */
import type { Fanout } from '../core/fanout.ts';
import type { Broker } from './broker.ts';
import { ChannelFeed, type FeedObserver, type Member } from './channel-feed.ts';
import { listenEvents } from './join-leave.ts';
import type { ChannelNamespaces } from './namespaces.ts';
import type { Stream } from './stream.ts';
import type { Logger } from '../logging/logger.ts';

export interface FeedsOptions {
  readonly stream: Stream;
  readonly namespaces: ChannelNamespaces;
  /** Join/leave events between instances; without it they reach this instance's subscribers only. */
  readonly events?: Broker;
  readonly logger: Logger;
  readonly observer?: FeedObserver;
  readonly retryMs?: readonly [number, number];
  /** The runtime's own fan-out, where it has one. */
  readonly fanout?: Fanout;
}

export class ChannelFeeds {
  readonly #feeds = new Map<string, ChannelFeed>();

  constructor(private readonly options: FeedsOptions) {}

  /**
   * The channel's feed, started if it has none: add the member (not live yet) to its `members` at
   * once, in the same tick, or the feed may be closed as empty; then await `feed.ready`.
   */
  open(channel: string): ChannelFeed {
    let feed = this.#feeds.get(channel);
    if (feed === undefined || feed.closed) {
      feed = this.#create(channel);
      this.#feeds.set(channel, feed);
    }
    return feed;
  }

  /** Removes a member; the feed stops listening once it has none. */
  detach(feed: ChannelFeed, member: Member): void {
    feed.remove(member);
    if (feed.members.size > 0) return;
    feed.close();
    if (this.#feeds.get(feed.channel) === feed) this.#feeds.delete(feed.channel);
  }

  /** The running feed of a channel, if this instance has subscribers to it. */
  get(channel: string): ChannelFeed | undefined {
    const feed = this.#feeds.get(channel);
    return feed?.closed ? undefined : feed;
  }

  /** Channels with a feed here (for tests and metrics). */
  get size(): number {
    return this.#feeds.size;
  }

  #create(channel: string): ChannelFeed {
    const { stream, namespaces, events, logger, observer, retryMs, fanout } = this.options;
    const extra: (() => Promise<() => void>)[] = [];
    if (events !== undefined && namespaces.optionsFor(channel).joinLeave)
      extra.push(() => listenEvents(events, channel, (event) => feed.event(event)));
    const feed: ChannelFeed = new ChannelFeed(
      channel,
      namespaces.historyFor(channel),
      { stream, logger, ...(observer ? { observer } : {}), ...(retryMs ? { retryMs } : {}), ...(fanout ? { fanout } : {}) },
      extra,
    );
    return feed;
  }
}
