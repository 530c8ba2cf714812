/** The audit's options (what the CLI parses into, and what library callers pass) and their defaults. */

/** How the audit obtains a credential, if the target needs one. */
export type CredentialSpec =
  | { readonly kind: 'none' }
  /** A shell command whose stdout is one fresh ticket, sent as the first message. */
  | { readonly kind: 'ticket-cmd'; readonly command: string }
  /** hardened-ws's embedded auth service: POST /auth/login, then POST /auth/ticket with the session cookie. */
  | { readonly kind: 'login'; readonly username: string; readonly password: string }
  /** Sent with every upgrade (servers that authenticate the handshake). */
  | { readonly kind: 'header'; readonly name: string; readonly value: string }
  | { readonly kind: 'query'; readonly name: string; readonly value: string };

export interface AuditOptions {
  /** ws:// or wss:// URL of the endpoint. */
  readonly url: string;
  /** The Origin presented as the target's own; default the URL's origin (https for wss). */
  readonly origin?: string;
  readonly credential: CredentialSpec;
  /** The first message that carries a ticket; `{ticket}` is replaced by the ticket as a JSON string. */
  readonly authMessage: string;
  /** A harmless message the endpoint accepts (after authentication, if any). */
  readonly message: string;
  /** Probe ids (or id prefixes such as `tls.`) to run; default all. */
  readonly only?: readonly string[];
  /** How long a silent socket may stay open before it counts as never closed (auth deadline, idle timeout). */
  readonly timeoutMs: number;
  /** Messages, pings and fragments a flood probe sends at most. */
  readonly flood: number;
  /** Bytes of requests the slow-reader probe sends at most while it does not read. */
  readonly floodBytes: number;
  /** Largest message the size probe tries (after 1 MiB); 0 stops at 1 MiB. */
  readonly maxMessageProbe: number;
  /** Cap on connections for the whole run; probes that do not fit are skipped. */
  readonly maxConnections?: number;
  /** New connections per second, at most. */
  readonly connectRate: number;
  /** Messages per second in the paced probes (kept under common rate limits so they measure something else). */
  readonly messageRate: number;
  /** Extra CA certificates (PEM text) to trust. */
  readonly ca?: string;
  /** Audit a wss:// endpoint whose certificate does not verify (the certificate probe still fails). */
  readonly insecure: boolean;
  /** How long to wait for a close or an answer after an attack (longer on slow networks). */
  readonly settleMs: number;
  /** A control handshake slower than baseline + max(this, 5 × baseline) means the target is struggling: stop. */
  readonly struggleMs: number;
}

export const DEFAULT_AUTH_MESSAGE = '{"type":"auth","ticket":{ticket}}';
export const DEFAULT_MESSAGE = '{"type":"ping","id":"audit"}';

export const defaultOptions = {
  credential: { kind: 'none' },
  authMessage: DEFAULT_AUTH_MESSAGE,
  message: DEFAULT_MESSAGE,
  timeoutMs: 60_000,
  flood: 500,
  floodBytes: 16 * 1024 * 1024,
  maxMessageProbe: 16 * 1024 * 1024,
  connectRate: 10,
  messageRate: 40,
  insecure: false,
  struggleMs: 1_000,
  settleMs: 2_000,
} as const satisfies Partial<AuditOptions>;

export function withDefaults(options: Partial<AuditOptions> & { readonly url: string }): AuditOptions {
  return { ...defaultOptions, ...options };
}
