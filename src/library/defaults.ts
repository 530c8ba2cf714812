/**
 * The library's defaults around the gateway — admission before the upgrade, heartbeats — the same
 * values the server command starts with (a unit test holds them equal to the config schema's).
 */
import type { AdmissionOptions } from '../core/admission/index.ts';

/** What may be set of admission in library mode; the gateway supplies the client IP and the logger. */
export type AdmissionSettings = Pick<
  AdmissionOptions,
  'allowedOrigins' | 'allowMissingOrigin' | 'publicOrigins' | 'maxConnections' | 'maxConnectionsPerIp' | 'upgradeRate'
>;

export const admissionDefaults: Readonly<Omit<AdmissionSettings, 'publicOrigins'>> = Object.freeze({
  /** Only pages of the server's own origin may open sockets (cross-site WebSocket hijacking). */
  allowedOrigins: 'self',
  /** Non-browser clients send no Origin; for them the ticket is the defence. */
  allowMissingOrigin: true,
  maxConnections: 20_000,
  maxConnectionsPerIp: 256,
  upgradeRate: Object.freeze({ perSecond: 20, burst: 60 }),
});

/** Protocol pings every `intervalMs`; a peer silent for `timeoutMs` after a ping is dropped. */
export const heartbeatDefaults = Object.freeze({ intervalMs: 30_000, timeoutMs: 10_000 });
