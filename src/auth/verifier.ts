/** The identity a verified ticket proves. `exp` is epoch seconds (JWT convention). */
export interface Identity {
  readonly sub: string;
  readonly exp: number;
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface VerifyRequest {
  readonly ticket: string;
  /** The Origin header of the WebSocket upgrade request, or null. */
  readonly origin: string | null;
  /** The client IP of the WebSocket connection, or null when unknown. */
  readonly ip: string | null;
}

/**
 * - `ok`: the ticket was good and is now consumed.
 * - `rejected`: the ticket is bad (unknown, reused, expired, bound elsewhere). `reason` is for the
 *   audit log only; it never reaches the client.
 * - `unavailable`: the auth service could not answer (down, timeout, 5xx). Fails closed.
 */
export type VerifyResult =
  | { readonly kind: 'ok'; readonly identity: Identity }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string; readonly retryAfterMs?: number };

export interface VerifyOptions {
  /**
   * Aborts at the caller's deadline (the gateway's verify timeout): stop the work (a fetch) then.
   * The caller settles at its deadline whether or not the verifier follows it.
   */
  readonly signal?: AbortSignal;
}

export interface Verifier {
  verify(request: VerifyRequest, options?: VerifyOptions): Promise<VerifyResult>;
}
