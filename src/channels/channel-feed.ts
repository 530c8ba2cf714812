/**
 * One channel's live feed on this instance: one stream subscription shared by every local
 * subscriber, and the last position delivered to them. It repairs what live notification loses —
 * an offset jump or a `resumed()` link is followed by a read from the last delivered offset, and
 * what was missed goes out in order before newer live publications — and tells its subscribers
 * `resync` when the stream lost data (a new epoch, or history that no longer reaches back).
 *
 * Where the runtime has its own fan-out (core/fanout.ts), a live member at the feed's position is
 * in the feed's topic: a delivery is one call for all of them, the frame built once. A member that
 * is ahead of the feed (a recovery read further than the feed has delivered) gets its deliveries
 * one by one, skipping what it has, until it is level; then it joins the topic.
 */
import type { Fanout } from '../core/fanout.ts';
import type { HandlerContext } from '../core/handler.ts';
import type { GatewayObserver } from '../core/observer.ts';
import type { Logger } from '../logging/logger.ts';
import { encodedOnce } from '../protocol/encode.ts';
import type { OutboundMessage } from '../protocol/messages.ts';
import type { PresenceEvent } from './join-leave.ts';
import type { HistoryPolicy, Position, Publication, ReadResult, Stream, StreamListener } from './stream.ts';
import { MAX_READ_LIMIT } from './stream.ts';

/** One local subscriber of the feed. */
export interface Member {
  readonly ctx: HandlerContext;
  /** The offset of the last publication sent to it, in the feed's epoch. */
  last: number;
  /** False until it is set up and while it recovers from history: live deliveries skip it. */
  live: boolean;
  /** Set when the feed resynced while the member was not live (its recovery then fails). */
  resynced: boolean;
  /** In the feed's topic of the runtime's fan-out: at the feed's position, `last` not kept (see ChannelFeed.lastOf). */
  grouped: boolean;
}

export type FeedObserver = Pick<GatewayObserver, 'delivered' | 'resynced'>;

export interface FeedDeps {
  readonly stream: Stream;
  readonly logger: Logger;
  /** Told of deliveries and resyncs. */
  readonly observer?: FeedObserver;
  /** Retry delays (ms) of a catch-up read that failed: first, cap. */
  readonly retryMs?: readonly [number, number];
  /** The runtime's own fan-out, where it has one. */
  readonly fanout?: Fanout;
}

interface Pending {
  readonly publication: Publication;
  /** Arrival order, to tell which notifications a later read has vouched for. */
  readonly seq: number;
}

/** Live notifications held while the feed starts or catches up; past it they are dropped and read back instead. */
export const MAX_PENDING = 1000;
/** Epochs proven gone are remembered (a notification of one is dropped without a read); a few suffice. */
const MAX_STALE = 16;

export class ChannelFeed implements StreamListener {
  /** This instance's subscribers of the channel (a Set: the cheapest per entry; each is one socket's subscription). */
  readonly members = new Set<Member>();
  /** Resolves once the feed listens and knows its position; rejects (StorageError) when it could not start. */
  readonly ready: Promise<void>;
  /** Stops the stream subscription and the extra ones (each stop is idempotent). */
  readonly #stops: (() => void)[] = [];
  #state: 'starting' | 'live' | 'catching-up' | 'closed' = 'starting';
  #last: Position = { offset: 0, epoch: '' };
  #pending: Pending[] = [];
  #overflowed = false;
  /** A catch-up is running and something asked for another round (a resume, a new gap). */
  #again = false;
  #seq = 0;
  /** Notifications that arrived before this seq were vouched for by a read of the current epoch. */
  #verifiedSeq = 0;
  /** The latest offset the last read saw. */
  #top = 0;
  readonly #stale = new Set<string>();
  readonly #reads = new Map<string, Promise<ReadResult>>();
  /** Live members in the fan-out topic (how many), and live members sent to one by one. */
  #grouped = 0;
  readonly #loose = new Set<Member>();
  readonly #topic: string | undefined;

  constructor(
    readonly channel: string,
    /** Null: a live-only channel (no positions, nothing to repair). */
    readonly policy: HistoryPolicy | null,
    private readonly deps: FeedDeps,
    /** Extra live subscriptions the feed holds (join/leave events); each returns its stop function. */
    extra: readonly (() => Promise<() => void>)[] = [],
  ) {
    this.#topic = deps.fanout?.topic(channel);
    this.ready = this.#start(extra);
    this.ready.catch(() => {}); // reported to each member that awaits it
  }

  /** The last position delivered here (offset 0 and epoch '' on a live-only channel). */
  get position(): Position {
    return this.#last;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The offset of the last publication a member was sent (in the topic: the feed's own). */
  lastOf(member: Member): number {
    return member.grouped ? this.#last.offset : member.last;
  }

  /** The member (in `members`) joins the live flow; it has been sent everything up to `member.last`. */
  goLive(member: Member): void {
    member.live = true;
    if (!this.#join(member)) this.#loose.add(member);
  }

  /** The member leaves the feed (unsubscribed, or its socket closed). */
  remove(member: Member): void {
    this.members.delete(member);
    this.#loose.delete(member);
    if (!member.grouped) return;
    member.grouped = false;
    this.#grouped--;
    this.deps.fanout!.leave(member.ctx, this.#topic!);
  }

  close(): void {
    this.#state = 'closed';
    this.#pending = [];
    for (const stop of this.#stops.splice(0)) stop();
  }

  /** A page of history read once for everyone asking the same at the same time (a recovery storm). */
  read(after: number, epoch: string, limit: number): Promise<ReadResult> {
    const key = `${after}|${epoch}|${limit}`;
    let read = this.#reads.get(key);
    if (read === undefined) {
      read = this.deps.stream.read(this.channel, { after, epoch, limit }, this.policy!);
      this.#reads.set(key, read);
      const forget = () => this.#reads.delete(key);
      read.then(forget, forget);
    }
    return read;
  }

  /** Asks for a catch-up round (e.g. a recovering member saw an epoch this feed has not). */
  check(): void {
    if (this.#state === 'live') void this.#catchUp();
    else if (this.#state === 'catching-up') this.#again = true;
  }

  /** A join or leave: to every live member but the connection it is about. */
  event(event: PresenceEvent): void {
    if (this.#state === 'closed') return;
    const message = encodedOnce({ type: event.type, channel: this.channel, sub: event.sub, conn: event.conn });
    for (const member of this.members) if (member.live && member.ctx.connectionId !== event.conn) member.ctx.send(message);
  }

  // --- StreamListener ---

  publication(publication: Publication): void {
    if (this.#state === 'closed') return;
    if (this.policy === null || publication.position === undefined) return this.#deliver(publication);
    const item: Pending = { publication, seq: ++this.#seq };
    if (this.#state !== 'live') return this.#hold(item);
    if (this.#accept(item)) return;
    this.#hold(item);
    void this.#catchUp();
  }

  resumed(): void {
    if (this.policy === null || this.#state === 'starting' || this.#state === 'closed') return;
    this.check();
  }

  // --- inside ---

  async #start(extra: readonly (() => Promise<() => void>)[]): Promise<void> {
    const keep = (stop: () => void) => (this.#state === 'closed' ? stop() : void this.#stops.push(stop));
    try {
      keep(await this.deps.stream.subscribe(this.channel, this));
      for (const subscribe of extra) {
        if (this.#state === 'closed') break;
        keep(await subscribe());
      }
      if (this.policy !== null && this.#state !== 'closed') {
        const issuedAt = this.#seq;
        this.#last = await this.deps.stream.position(this.channel, this.policy);
        this.#verifiedSeq = issuedAt;
        this.#top = this.#last.offset;
      }
    } catch (error) {
      this.close();
      throw error;
    }
    if (this.#state === 'closed') return; // the last member left while it started
    this.#state = 'live';
    if (this.#overflowed) void this.#catchUp();
    else this.#drain();
  }

  #hold(item: Pending): void {
    if (this.#pending.length < MAX_PENDING) this.#pending.push(item);
    else this.#overflowed = true; // stored in the stream all the same: the catch-up reads it
  }

  /** Handles a positioned publication in order; false when a read is needed first (a gap, an unknown epoch). */
  #accept({ publication, seq }: Pending): boolean {
    const { offset, epoch } = publication.position!;
    if (epoch !== this.#last.epoch) {
      if (this.#stale.has(epoch)) return true;
      // A read of the current epoch made after this arrived: its epoch is an older one, gone.
      if (seq <= this.#verifiedSeq) return (this.#markStale(epoch), true);
      return false;
    }
    if (offset <= this.#last.offset) return true; // already delivered (a catch-up read got there first)
    if (offset === this.#last.offset + 1) {
      this.#last = publication.position!;
      this.#deliver(publication);
      return true;
    }
    if (seq <= this.#verifiedSeq && offset > this.#top) {
      // Notified, yet a later read of this epoch does not reach it: the store lost it (a restore).
      this.deps.logger.warn({ channel: this.channel, offset }, 'notified publication missing from the stream; skipped');
      return true;
    }
    return false;
  }

  #drain(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i++) {
      if (this.#state !== 'live') {
        this.#pending = pending.slice(i).concat(this.#pending);
        return;
      }
      if (!this.#accept(pending[i]!)) {
        this.#pending = pending.slice(i).concat(this.#pending);
        void this.#catchUp();
        return;
      }
    }
  }

  /** Reads from the last delivered offset until caught up, then handles what was held meanwhile. */
  async #catchUp(): Promise<void> {
    if (this.#state !== 'live') {
      if (this.#state === 'catching-up') this.#again = true;
      return;
    }
    this.#state = 'catching-up';
    const [firstDelay, maxDelay] = this.deps.retryMs ?? [250, 5000];
    let delay = firstDelay;
    let resynced = false;
    for (;;) {
      this.#again = false;
      this.#overflowed = false;
      const issuedAt = this.#seq;
      const { offset: after, epoch } = this.#last;
      let result: ReadResult;
      try {
        result = await this.deps.stream.read(this.channel, { after, epoch, limit: MAX_READ_LIMIT }, this.policy!);
      } catch {
        if (this.closed) return;
        await sleep(delay); // the store is down: its return comes with a resumed(), and we are still here
        delay = Math.min(delay * 2, maxDelay);
        this.#again = true;
        if (this.closed) return;
        continue;
      }
      if (this.closed) return;
      delay = firstDelay;
      this.#top = result.position.offset;
      if (!result.epochMatches) {
        this.#markStale(epoch);
        this.#resync({ offset: 0, epoch: result.position.epoch });
        resynced = true;
        continue;
      }
      this.#verifiedSeq = issuedAt;
      if (!result.reachesBack) {
        if (result.position.offset < after) {
          // The stream went back behind what was delivered (a restore reused offsets): only a new epoch tells everyone.
          try {
            const renewed = await this.deps.stream.abandonEpoch(this.channel, epoch, this.policy!);
            if (this.closed) return;
            this.deps.logger.warn(
              { channel: this.channel, delivered: after, stored: result.position.offset },
              'stream went back; new epoch',
            );
            this.#markStale(epoch);
            this.#resync({ offset: 0, epoch: renewed.epoch });
            resynced = true;
          } catch {
            if (this.closed) return;
            await sleep(delay);
            if (this.closed) return;
          }
          continue;
        }
        // More was missed than the history keeps: deliver what it still holds, after telling them.
        const first = result.publications[0];
        const skipTo = first === undefined ? result.position : { offset: first.position!.offset - 1, epoch };
        if (!resynced) this.#resync(skipTo);
        this.#last = skipTo;
      }
      resynced = false;
      for (const publication of result.publications) {
        if (publication.position!.offset !== this.#last.offset + 1) continue;
        this.#last = publication.position!;
        this.#deliver(publication);
      }
      if (result.publications.length === MAX_READ_LIMIT || this.#again || this.#overflowed) continue;
      break;
    }
    this.#state = 'live';
    this.#drain();
  }

  /**
   * The stream lost data: every member is told, and continues from `position` (epoch changed: from
   * its start; same epoch: from what history still holds). A member not live yet fails its recovery.
   */
  #resync(position: Position): void {
    const changed = position.epoch !== this.#last.epoch;
    this.#last = position;
    this.deps.logger.info({ channel: this.channel, members: this.members.size, epochChanged: changed }, 'channel.resync');
    this.deps.observer?.resynced?.(this.members.size);
    const message = encodedOnce({ type: 'resync', channel: this.channel, epoch: position.epoch });
    for (const member of this.members) {
      if (!member.live) {
        member.resynced = true;
        continue;
      }
      if (member.grouped) continue; // at the feed's position, which is now `position`: told below
      if (changed || member.last < position.offset) member.last = position.offset;
      member.ctx.send(message);
    }
    this.#publishToGroup(message);
  }

  #markStale(epoch: string): void {
    if (this.#stale.size >= MAX_STALE) this.#stale.clear();
    this.#stale.add(epoch);
  }

  /**
   * One message, encoded once, for every live member: one call for those in the topic, then one
   * send each for the others, which get what is after their own last offset and join the topic
   * once level with the feed.
   */
  #deliver(publication: Publication): void {
    const position = this.policy === null ? undefined : publication.position;
    const { data, from } = publication;
    const message = encodedOnce(
      position === undefined
        ? { type: 'message', channel: this.channel, data, from }
        : { type: 'message', channel: this.channel, data, from, offset: position.offset, epoch: position.epoch },
    );
    this.#publishToGroup(message);
    for (const member of this.#loose) {
      if (position !== undefined) {
        if (position.offset <= member.last) {
          if (position.offset === member.last && this.#join(member)) this.#loose.delete(member);
          continue;
        }
        member.last = position.offset;
      }
      member.ctx.send(message);
      this.deps.observer?.delivered?.(1);
      if (this.#join(member)) this.#loose.delete(member);
    }
  }

  #publishToGroup(message: OutboundMessage): void {
    if (this.#grouped === 0) return;
    this.deps.fanout!.publish(this.#topic!, message, this.#grouped, () => this.#groupedContexts());
    this.deps.observer?.delivered?.(this.#grouped);
  }

  *#groupedContexts(): Iterable<HandlerContext> {
    for (const member of this.members) if (member.grouped) yield member.ctx;
  }

  /** Into the fan-out topic, if the runtime has one and the member is at the feed's position. */
  #join(member: Member): boolean {
    const fanout = this.deps.fanout;
    if (fanout === undefined || this.#state === 'closed') return false;
    if (this.policy !== null && member.last !== this.#last.offset) return false;
    if (!fanout.join(member.ctx, this.#topic!)) return false;
    member.grouped = true;
    this.#grouped++;
    return true;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
