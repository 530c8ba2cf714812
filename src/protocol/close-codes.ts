/**
 * Every close code the gateway sends, with the retry class a client should apply.
 * docs/protocol.md is the prose version of this table; a test keeps them in step.
 */
export type RetryClass = 'reconnect' | 'reconnect-with-backoff' | 'do-not-retry';

export interface CloseCodeInfo {
  readonly code: number;
  /** Stable, secret-free reason text sent in the close frame. */
  readonly reason: string;
  readonly retry: RetryClass;
}

const define = <T extends Record<string, CloseCodeInfo>>(table: T): T => table;

export const CloseCodes = define({
  goingAway: { code: 1001, reason: 'server going away', retry: 'reconnect-with-backoff' },
  protocolError: { code: 1002, reason: 'protocol error', retry: 'reconnect-with-backoff' },
  invalidPayload: { code: 1007, reason: 'invalid payload', retry: 'reconnect-with-backoff' },
  policyViolation: { code: 1008, reason: 'protocol misuse', retry: 'reconnect-with-backoff' },
  tooBig: { code: 1009, reason: 'message too big', retry: 'reconnect-with-backoff' },
  internalError: { code: 1011, reason: 'internal error', retry: 'reconnect-with-backoff' },
  tryAgainLater: { code: 1013, reason: 'auth service unavailable', retry: 'reconnect-with-backoff' },
  ticketRejected: { code: 4401, reason: 'ticket rejected', retry: 'reconnect' },
  authTimeout: { code: 4408, reason: 'auth deadline passed', retry: 'reconnect' },
  sessionRevoked: { code: 4409, reason: 'session revoked', retry: 'reconnect' },
  sessionExpired: { code: 4410, reason: 'session expired', retry: 'reconnect' },
  slowConsumer: { code: 4413, reason: 'slow consumer', retry: 'reconnect-with-backoff' },
  rateLimited: { code: 4429, reason: 'message rate exceeded', retry: 'reconnect-with-backoff' },
  userConnectionLimit: { code: 4430, reason: 'too many connections for this user', retry: 'reconnect-with-backoff' },
  kicked: { code: 4503, reason: 'closed by administrator', retry: 'do-not-retry' },
  // The server API's disconnect (docs/api.md): the defaults; a call may name another code in 4000–4999.
  disconnected: { code: 4010, reason: 'disconnected by the application', retry: 'reconnect' },
  disconnectedFinal: { code: 4510, reason: 'disconnected by the application', retry: 'do-not-retry' },
});

export type CloseCodeName = keyof typeof CloseCodes;

/**
 * The close an application asks for through the server API: `code` in 4000–4999, its retry class by
 * range (4000–4499 reconnect, 4500–4999 do not). Null for a code outside that range or one the
 * gateway sends with a meaning of its own (4401, 4409, 4503, …): a client must be able to trust those.
 */
export function applicationClose(code: number): CloseCodeInfo | null {
  if (!Number.isInteger(code) || code < 4000 || code > 4999) return null;
  const own = Object.values(CloseCodes).find((info) => info.code === code);
  if (own !== undefined) return own === CloseCodes.disconnected || own === CloseCodes.disconnectedFinal ? own : null;
  return { code, reason: CloseCodes.disconnected.reason, retry: code < 4500 ? 'reconnect' : 'do-not-retry' };
}

/**
 * 4000–4499: the client may reconnect with a fresh ticket; 4500–4999: it must not retry.
 * Standard codes not in the table are treated as transient.
 */
export function retryClassOf(code: number): RetryClass {
  for (const info of Object.values(CloseCodes)) if (info.code === code) return info.retry;
  if (code >= 4500 && code <= 4999) return 'do-not-retry';
  if (code >= 4000 && code <= 4499) return 'reconnect';
  return 'reconnect-with-backoff';
}
