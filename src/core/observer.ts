/**
 * What the gateway reports as it works, for metrics. The core calls these; the server maps them
 * to Prometheus (src/server/metrics.ts). Every method is optional and must not throw.
 */
import type { ConnState } from './connection-machine.ts';

export type Phase = ConnState['phase'];

export interface GatewayObserver {
  /** A connection moved between phases (`null` = did not exist yet). */
  phaseChanged?(from: Phase | null, to: Phase): void;
  /** The socket closed with this code (ours or the peer's). */
  closed?(code: number): void;
  /** Outcome of one ticket verification: `ok`, or the audit reason (`unknown_ticket`, `timeout`, …). */
  verified?(outcome: 'ok' | 'rejected' | 'unavailable', reason: string, seconds: number): void;
  messageIn?(bytes: number): void;
  /** `count` messages of `bytes` each went out (one, or a fan-out's sockets). */
  messageOut?(bytes: number, count?: number): void;
  /** A limit closed or refused something: `message_rate`, `send_buffer`, `user_connections`, … */
  limitHit?(kind: string): void;
  /** A channel publish (and whether the broker took it) or a delivery to a socket. */
  published?(ok: boolean): void;
  delivered?(count?: number): void;
  /** A channel's stream lost data (a new epoch, or history that no longer reaches back): its subscribers here were told `resync`. */
  resynced?(subscribers: number): void;
  /** A subscribe with `since`: every publication after it was sent (`recovered`), or the client was told to reload (`resync`). */
  recovery?(outcome: 'recovered' | 'resync'): void;
}
