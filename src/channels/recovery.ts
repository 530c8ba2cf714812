/**
 * Recovery of one subscriber that resubscribes with `since`: the publications after its position,
 * read from history page by page and sent in offset order, until it has reached what the feed has
 * delivered live; then it joins the live flow. The feed's live deliveries skip it meanwhile and
 * never send it an offset it already has, so there is no gap and no duplicate at the seam.
 */
import type { ChannelFeed, Member } from './channel-feed.ts';
import type { Position, Publication } from './stream.ts';
import { encodedOnce } from '../protocol/encode.ts';
import type { OutboundMessage } from '../protocol/messages.ts';
import { isEpochToken, MAX_READ_LIMIT } from './stream.ts';

/**
 * Brings `member` (not live, in `feed`) from `since` to the feed's position and makes it live.
 * Resolves true when every publication after `since` was sent, false when that was impossible
 * (another epoch, history no longer reaching back, the stream lost data meanwhile): then nothing
 * older is replayed and it continues from the feed's position. Rejects (StorageError) when the
 * stream could not be read; the member stays not live.
 */
export async function recover(feed: ChannelFeed, member: Member, since: Position): Promise<boolean> {
  const policy = feed.policy!;
  const page = Math.min(MAX_READ_LIMIT, policy.size);
  // A publisher faster than the reader could keep it chasing: a bound, then it is told to reload.
  const maxRounds = Math.ceil(policy.size / page) + 4;
  const sameEpoch = isEpochToken(since.epoch) && since.epoch === feed.position.epoch;
  if (!sameEpoch) return giveUp(feed, member, since);
  member.last = since.offset;
  for (let round = 0; round < maxRounds; round++) {
    const result = await feed.read(member.last, since.epoch, page);
    if (member.ctx.closed || member.resynced) return giveUp(feed, member, since);
    if (!result.epochMatches || !result.reachesBack) return giveUp(feed, member, since);
    for (const publication of result.publications) {
      const offset = publication.position!.offset;
      if (offset !== member.last + 1) continue;
      member.last = offset;
      member.ctx.send(messageOf(publication));
    }
    const live = feed.position;
    if (live.epoch !== since.epoch) {
      feed.check(); // the stream has moved to another epoch and this feed has not noticed yet
      return giveUp(feed, member, since);
    }
    if (member.last >= live.offset) {
      feed.goLive(member);
      return true;
    }
  }
  return giveUp(feed, member, since);
}

/** Continues from the feed's position (its later deliveries follow), nothing older replayed. */
function giveUp(feed: ChannelFeed, member: Member, since: Position): false {
  const live = feed.position;
  // What it was sent of the feed's own epoch stays sent: never an offset twice. (Its `since` alone proves nothing.)
  const keep = !member.resynced && live.epoch === since.epoch && member.last > since.offset;
  member.last = keep ? Math.max(member.last, live.offset) : live.offset;
  member.resynced = false;
  feed.goLive(member);
  return false;
}

/** The delivery of a publication read from history, built and encoded once for every member recovering it (a storm shares one read). */
const messages = new WeakMap<Publication, OutboundMessage>();
function messageOf(publication: Publication): OutboundMessage {
  let message = messages.get(publication);
  if (message === undefined) {
    const { channel, data, from, position } = publication;
    message = encodedOnce({ type: 'message', channel, data, from, offset: position!.offset, epoch: position!.epoch });
    messages.set(publication, message);
  }
  return message;
}
