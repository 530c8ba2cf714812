/**
 * In-band session refresh as a single flight: however many triggers arrive (the server's
 * `session.expiring`, the local timer, the app calling `refresh()`), at most one refresh is on the
 * wire at a time and every caller shares its outcome. The server would answer a second concurrent
 * one with `refresh_in_progress` anyway; this spares it the ticket and the verification.
 */
import { ClientError, ticketFailure } from './errors.ts';
import type { SessionEnd } from './session-end.ts';
import { grantOf, type TicketGrant } from './ticket.ts';
import type { Clock, OutgoingMessage, Reply } from './types.ts';

/** Longest timer the runtimes keep exactly (2^31−1 ms ≈ 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

export class RefreshFlight {
  #inflight: Promise<number> | null = null;
  readonly #run: () => Promise<number>;

  /** `run` performs one refresh and resolves with the new exp (epoch seconds). */
  constructor(run: () => Promise<number>) {
    this.#run = run;
  }

  get active(): boolean {
    return this.#inflight !== null;
  }

  trigger(): Promise<number> {
    if (this.#inflight !== null) return this.#inflight;
    const flight = (async () => {
      try {
        return await this.#run();
      } finally {
        this.#inflight = null;
      }
    })();
    this.#inflight = flight;
    return flight;
  }
}

/** Fires `fire` once at `exp·1000 − beforeMs`; re-armed for every new exp, cancelled on disconnect. */
export class RefreshTimer {
  readonly #clock: Clock;
  readonly #beforeMs: number;
  readonly #fire: () => void;
  #handle: unknown = undefined;

  constructor(clock: Clock, beforeMs: number, fire: () => void) {
    this.#clock = clock;
    this.#beforeMs = beforeMs;
    this.#fire = fire;
  }

  /**
   * Arms for this exp. A target already in the past is not fired: right after auth.ok or a refresh
   * that did not move exp, firing would loop; the server's `session.expiring` still triggers one.
   */
  arm(exp: number): void {
    this.cancel();
    const at = exp * 1000 - this.#beforeMs;
    const wait = at - this.#clock.now();
    if (!(wait > 0)) return;
    this.#handle = this.#clock.setTimeout(
      () => {
        this.#handle = undefined;
        if (wait > MAX_TIMER_MS) this.arm(exp);
        else this.#fire();
      },
      Math.min(wait, MAX_TIMER_MS),
    );
  }

  cancel(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}

export interface RefreshPort {
  isOpen(): boolean;
  getTicket(): Promise<unknown>;
  /** Sends on the live socket now (never queued: a refresh must not go out on a later connection). */
  request(message: OutgoingMessage): Promise<Reply>;
}

/**
 * One refresh: a fresh ticket, then `{"type":"refresh","ticket"}` and the new exp from
 * `session.refreshed` — unless the ticket response says the session ends no later than the
 * current exp. Then nothing would move, so the ticket is not sent and exp is `final`.
 */
export async function refreshSession(port: RefreshPort, session: SessionEnd): Promise<'refreshed' | 'final'> {
  if (!port.isOpen()) throw new ClientError('not_connected', 'cannot refresh: not connected');
  let grant: TicketGrant | null;
  try {
    grant = grantOf(await port.getTicket());
  } catch (error) {
    throw ticketFailure(error, false);
  }
  if (grant === null) throw new ClientError('ticket_failed', 'cannot refresh: getTicket returned no ticket');
  session.granted(grant.sessionExp);
  if (!session.wouldExtend(grant.sessionExp)) {
    session.reachedLimit();
    return 'final';
  }
  const reply = await port.request({ type: 'refresh', ticket: grant.ticket });
  return session.refreshed(typeof reply.exp === 'number' ? reply.exp : null);
}
