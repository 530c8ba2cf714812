/** What the auth service remembers about an issued ticket. Times are epoch milliseconds. */
export interface TicketRecord {
  readonly sub: string;
  /** Origin of the request that obtained the ticket; null when it had none (non-browser). */
  readonly origin: string | null;
  /** Client IP that obtained the ticket, when known. */
  readonly ip: string | null;
  /** When the ticket stops being redeemable. */
  readonly exp: number;
  /** When the login session behind the ticket ends: the socket session may not outlive it. */
  readonly sessionExp: number;
  /** The login session id, so a logout can find the sockets it authorised. */
  readonly sid: string | null;
  /** Extra claims handed to the gateway on verification (e.g. channel permissions). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * Server-side ticket storage. `take` is an atomic get-and-delete: whatever the
 * implementation, a ticket can be taken at most once (single use across instances).
 */
export interface TicketStore {
  put(ticket: string, record: TicketRecord): Promise<void>;
  /** Removes and returns the record, or null if there is none. Expired records may be returned; the caller checks `exp`. */
  take(ticket: string): Promise<TicketRecord | null>;
  close(): Promise<void>;
}
