/**
 * One subscription's order keeper. It knows the position the app has reached (offset + epoch) and
 * hands the app each publication once, in offset order: a repeated offset is dropped, and a jump
 * within one epoch is a gap — later messages wait while the gap is read from history (paged,
 * bounded), then follow. When that cannot be done (the stream was reset, the history no longer
 * reaches back, the gap is larger than the bound) it says so once (`resync`) and continues from the
 * next message it holds. Channels without history (no offsets) pass straight through.
 */
import { ClientError } from './errors.ts';
import type { HistoryPage, ResyncReason, StreamPosition } from './subscription-types.ts';

export interface Incoming {
  readonly data: unknown;
  readonly from: string;
  readonly position: StreamPosition | null;
}

export interface SequencerPort {
  /** One history page: publications after `since`, ascending, at most `limit`. */
  history(since: StreamPosition, limit: number): Promise<HistoryPage>;
  deliver(message: Incoming, recovered: boolean): void;
  resync(reason: ResyncReason): void;
  /** A gap's history request failed for a reason the app should hear about. */
  report(error: Error): void;
}

/** Publications asked for per history request while filling a gap (the server's default page). */
export const GAP_PAGE_SIZE = 100;
/** Messages held behind a gap; beyond this the gap is given up (resync) rather than held in memory. */
export const MAX_HELD = 1000;

interface Held extends Incoming {
  /** It arrived while the subscribe was recovering (replayed by the server). */
  readonly recovered: boolean;
}

/** Failures that mean the connection went away: the resubscribe recovers instead. */
const CONNECTION_GONE = new Set(['connection_lost', 'not_connected', 'closed']);

export class Sequencer {
  readonly #port: SequencerPort;
  readonly #maxGapFill: number;
  #position: StreamPosition | null = null;
  /** The highest offset handed to the app in #position's epoch (null: none yet). */
  #delivered: number | null = null;
  /** Messages waiting, in arrival order (which is offset order): behind a gap, or for the subscribe's answer. */
  #held: Held[] = [];
  /** A subscribe with `since` is out: its replay may run ahead of the answer that says how it went. */
  #recovering = false;
  /** A resync was already announced while recovering (the answer must not announce a second). */
  #announced = false;
  #filling = false;
  /** Where the subscribe's answer said the stream is, when the replay did not reach it. */
  #pendingFill: number | null = null;
  /** Bumped whenever in-flight work is abandoned: a history answer from an older round is ignored. */
  #round = 0;
  /** The server said publications in this epoch are lost: the next jump in offsets is not a gap to fill. */
  #skipGap = false;
  /** A new epoch already announced (its first message came before the server's resync frame). */
  #resetTo: string | null = null;

  constructor(port: SequencerPort, maxGapFill: number) {
    this.#port = port;
    this.#maxGapFill = maxGapFill;
  }

  get position(): StreamPosition | null {
    return this.#position;
  }

  /** The app's own starting point (`since`): it has everything up to it. */
  startFrom(position: StreamPosition | null): void {
    this.#position = position;
    this.#delivered = position?.offset ?? null;
  }

  /** A subscribe goes out on a new connection; `recovering` when it carries `since`. */
  begin(recovering: boolean): void {
    this.halt();
    this.#recovering = recovering;
  }

  /** The connection is gone: anything held or being filled comes again through the next recovery. */
  halt(): void {
    this.#abandon();
    this.#held = [];
    this.#skipGap = false;
    this.#resetTo = null;
    this.#recovering = false;
    this.#announced = false;
    this.#pendingFill = null;
  }

  /** Unsubscribed: the next subscribe starts afresh. */
  forget(): void {
    this.halt();
    this.startFrom(null);
  }

  receive(message: Incoming): void {
    this.#held.push({ ...message, recovered: this.#recovering });
    if (this.#held.length > MAX_HELD) return this.#rebase('gap_too_large', null);
    this.#pump();
  }

  /**
   * The server's `resync`: publications this subscriber missed cannot be recovered. With a new
   * epoch the stream was lost; with the same one, more were missed than the history keeps.
   */
  streamReset(epoch: string): void {
    if (epoch === this.#resetTo) return; // the new epoch's first message came first and was announced
    if (this.#position?.epoch === epoch) {
      this.#abandon(); // a fill in flight would only find the history short
      this.#announce('history_exhausted');
      this.#skipGap = true;
      return this.#pump();
    }
    this.#abandon();
    this.#resetTo = epoch;
    this.#held = this.#held.filter((m) => m.position === null || m.position.epoch === epoch);
    this.#announce('stream_reset');
    // Offset 0 of the new epoch: everything published in it from now on is recoverable.
    this.#position = { offset: 0, epoch };
    this.#delivered = null;
    this.#pump();
  }

  /**
   * The subscribe's answer (`current`: its offset/epoch). Says whether the recovery worked and, if
   * not, why; nothing is handed to the app until `resume()`, so the app hears `subscribed` (and a
   * resync) before what follows.
   */
  confirmed(
    current: StreamPosition | null,
    recoveredFlag: boolean,
    wasRecovering: boolean,
  ): { recovered: boolean; resync: ResyncReason | null } {
    const announced = this.#announced;
    this.#recovering = false;
    this.#announced = false;
    const position = this.#position;
    let resync: ResyncReason | null = null;
    if (current === null) {
      this.startFrom(null); // a channel without history: nothing to keep
      return { recovered: false, resync: null };
    }
    if (position === null) {
      this.#position = current;
    } else if (current.epoch !== position.epoch) {
      resync = 'stream_reset';
      this.#position = current;
      this.#delivered = null;
      this.#held = this.#held.filter((m) => m.position === null || m.position.epoch === current.epoch);
    } else if (wasRecovering && !recoveredFlag) {
      resync = 'history_exhausted';
      this.#position = { offset: Math.max(position.offset, current.offset), epoch: current.epoch };
    } else if (current.offset > position.offset) {
      // A fresh subscribe starts at the stream's current position; a recovery that stopped short
      // of it (it should not) is completed from history.
      if (wasRecovering) this.#pendingFill = current.offset;
      else this.#position = current;
    }
    if (announced) resync = null;
    return { recovered: wasRecovering && !announced && resync === null, resync };
  }

  /** After `confirmed`: hand over what was held, and fill what the replay left out. */
  resume(): void {
    const target = this.#pendingFill;
    this.#pendingFill = null;
    if (target !== null && this.#position !== null && target > this.#position.offset) this.#fillTo(target);
    else this.#pump();
  }

  #pump(): void {
    while (this.#held.length > 0 && !this.#filling) {
      const next = this.#held[0]!;
      const at = next.position;
      const position = this.#position;
      if (at !== null && position !== null) {
        if (at.epoch !== position.epoch) {
          if (this.#recovering) return; // the subscribe's answer will say what happened to the stream
          this.#announce('stream_reset');
          this.#resetTo = at.epoch;
          this.#position = { offset: Math.max(0, at.offset - 1), epoch: at.epoch };
          this.#delivered = null;
        } else if (this.#delivered !== null && at.offset <= this.#delivered) {
          this.#held.shift(); // already handed to the app
          continue;
        } else if (at.offset > position.offset + 1) {
          if (this.#recovering) return;
          if (!this.#skipGap) return this.#fillTo(at.offset - 1);
          this.#position = { offset: at.offset - 1, epoch: at.epoch }; // the server already said what is lost
        }
      }
      this.#held.shift();
      this.#hand(next, next.recovered);
    }
  }

  #hand(message: Incoming, recovered: boolean): void {
    const at = message.position;
    if (at !== null) {
      this.#skipGap = false;
      const known = this.#position?.epoch === at.epoch ? this.#position.offset : 0;
      this.#position = { offset: Math.max(known, at.offset), epoch: at.epoch };
      this.#delivered = at.offset;
    }
    this.#port.deliver(message, recovered);
  }

  #fillTo(target: number): void {
    this.#filling = true;
    void this.#fill(target, this.#round);
  }

  /** Reads history page by page until the position reaches `target`, then lets held messages follow. */
  async #fill(target: number, round: number): Promise<void> {
    let budget = this.#maxGapFill;
    try {
      for (;;) {
        const from = this.#position;
        if (round !== this.#round || from === null) return;
        if (from.offset >= target) break;
        const missing = target - from.offset;
        if (missing > budget) return this.#rebase('gap_too_large', { offset: target, epoch: from.epoch });
        const page = await this.#port.history(from, Math.min(GAP_PAGE_SIZE, missing));
        if (round !== this.#round) return;
        if (page.position.epoch !== from.epoch) return this.#rebase('stream_reset', page.position);
        if (!page.complete) return this.#rebase('history_exhausted', page.position);
        let reached = from.offset;
        for (const publication of page.publications) {
          if (publication.offset <= reached) continue;
          if (publication.offset !== reached + 1 || publication.offset > target) break;
          reached = publication.offset;
          budget--;
          this.#hand({ data: publication.data, from: publication.from, position: { offset: reached, epoch: from.epoch } }, true);
        }
        // A page that does not move on: the history does not hold what the live flow skipped.
        if (reached === from.offset) return this.#rebase('history_exhausted', page.position);
      }
    } catch (error) {
      if (round !== this.#round) return;
      if (error instanceof ClientError && CONNECTION_GONE.has(error.code)) return; // halt() follows; the resubscribe recovers
      this.#port.report(error instanceof Error ? error : new ClientError('server_error', 'history request failed'));
      return this.#rebase('gap_fill_failed', null);
    }
    this.#filling = false;
    this.#pump();
  }

  /**
   * Gives up on what is missing: says so, and continues from the first message held (or, with none,
   * from `fallback`) as if it were the first.
   */
  #rebase(reason: ResyncReason, fallback: StreamPosition | null): void {
    this.#announce(reason);
    this.#abandon();
    this.#recovering = false;
    const head = this.#held.find((m) => m.position !== null)?.position ?? null;
    this.#position = head !== null ? { offset: Math.max(0, head.offset - 1), epoch: head.epoch } : fallback;
    this.#delivered = null;
    this.#pump();
  }

  #announce(reason: ResyncReason): void {
    if (this.#recovering) {
      if (this.#announced) return;
      this.#announced = true;
    }
    this.#port.resync(reason);
  }

  #abandon(): void {
    this.#round++;
    this.#filling = false;
  }
}
