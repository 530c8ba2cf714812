/** A probe: data (ProbeInfo) plus its budget and a small function run against the target. */
import type { ProbeContext } from './context.ts';
import { authStyle, ticketConnections } from './credential.ts';
import type { Budget, ProbeInfo, Verdict } from './finding.ts';
import type { AuditHost } from './host.ts';
import type { AuditOptions } from './options.ts';
import type { Target } from './target.ts';

/** What a probe's budget and applicability depend on, known before anything is sent. */
export interface Plan {
  readonly options: AuditOptions;
  readonly target: Target;
  readonly auth: 'none' | 'first-message' | 'handshake';
  readonly tlsClient: AuditHost['tlsClient'];
}

export interface Probe extends ProbeInfo {
  /** Only waits on one socket: runs beside the others from the start. */
  readonly passive?: boolean;
  /** Why there is nothing to check on this target (then it is not run and costs nothing); null when it applies. */
  applies?(plan: Plan): string | null;
  budget(plan: Plan): Budget;
  run(ctx: ProbeContext): Promise<Verdict>;
}

export const planFor = (options: AuditOptions, target: Target, host: AuditHost): Plan => ({
  options,
  target,
  auth: authStyle(options.credential),
  tlsClient: host.tlsClient,
});

/** Bytes of one upgrade request, with room for a handshake credential and the probes' odd headers. */
export const HANDSHAKE_BYTES = 2_048;

/** Connections and bytes of one ready session (upgrade, plus a ticket and its auth message when needed). */
export function sessionCost(plan: Plan): { connections: number; bytes: number } {
  if (plan.auth !== 'first-message') return { connections: 1, bytes: HANDSHAKE_BYTES };
  return {
    connections: 1 + ticketConnections(plan.options.credential),
    bytes: HANDSHAKE_BYTES + 2_048 + plan.options.authMessage.length + 4_096,
  };
}

/** A budget of `sessions` sessions plus `upgrades` bare handshakes and `bytes` of payload. */
export function budgetOf(plan: Plan, b: { sessions?: number; upgrades?: number; bytes?: number; ms: number }): Budget {
  const s = sessionCost(plan);
  const sessions = b.sessions ?? 0;
  const upgrades = b.upgrades ?? 0;
  const connections = sessions * s.connections + upgrades;
  return {
    connections,
    bytes: sessions * s.bytes + upgrades * HANDSHAKE_BYTES + (b.bytes ?? 0),
    // Pacing: at most connectRate new connections per second.
    ms: b.ms + Math.ceil((connections * 1000) / plan.options.connectRate),
  };
}
