/**
 * Revocations reach every instance: the sockets of a logged-out session or a kicked user may be
 * held anywhere. Each revocation is applied here at once and published on the control channel;
 * every instance applies what it receives from the others.
 */
import type { Broker } from '../channels/broker.ts';
import { CONTROL_CHANNEL } from '../channels/index.ts';
import { CloseCodes } from '../protocol/close-codes.ts';
import type { Gateway, RevocationTarget } from '../core/gateway.ts';
import type { Logger } from '../logging/logger.ts';

type Reason = 'logout' | 'admin_kick';
const CLOSE = { logout: CloseCodes.sessionRevoked, admin_kick: CloseCodes.kicked } as const;

interface ControlMessage {
  readonly kind: 'revoke';
  readonly instance: string;
  readonly reason: Reason;
  readonly target: RevocationTarget;
}

export interface RevocationBus {
  /** Closes matching sockets here and asks the other instances to do the same; returns how many closed here. */
  revoke(target: RevocationTarget, reason: Reason): Promise<number>;
  /** Whether this instance is listening on the control channel (readiness). */
  readonly listening: boolean;
  close(): void;
}

export function createRevocationBus(broker: Broker, gateway: Gateway, logger: Logger): RevocationBus {
  const instance = crypto.randomUUID();
  let stop: (() => void) | undefined;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const apply = (message: ControlMessage) => gateway.revoke(message.target, CLOSE[message.reason], message.reason);

  // The broker may be down at start: keep trying; once subscribed, the broker keeps it across reconnects.
  const listen = (delayMs: number) => {
    broker
      .subscribe(CONTROL_CHANNEL, ({ data }) => {
        const message = readControl(data);
        if (message !== null && message.instance !== instance) apply(message);
      })
      .then((unsubscribe) => {
        if (closed) unsubscribe();
        else stop = unsubscribe;
      })
      .catch(() => {
        if (!closed) retry = setTimeout(() => listen(Math.min(delayMs * 2, 5_000)), delayMs);
      });
  };
  listen(250);

  return {
    async revoke(target, reason) {
      const closedHere = apply({ kind: 'revoke', instance, reason, target });
      const message: ControlMessage = { kind: 'revoke', instance, reason, target };
      try {
        await broker.publish({ channel: CONTROL_CHANNEL, data: message, from: instance });
      } catch {
        logger.error({ reason }, 'revocation.fanout_failed');
        throw Object.assign(new Error('revocation could not reach other instances'), { code: 'unavailable' });
      }
      return closedHere;
    },
    get listening() {
      return stop !== undefined;
    },
    close() {
      closed = true;
      clearTimeout(retry);
      stop?.();
    },
  };
}

function readControl(data: unknown): ControlMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Partial<ControlMessage>;
  if (m.kind !== 'revoke' || typeof m.instance !== 'string' || (m.reason !== 'logout' && m.reason !== 'admin_kick')) return null;
  const t = m.target as Record<string, unknown> | undefined;
  if (typeof t?.sid === 'string') return { kind: 'revoke', instance: m.instance, reason: m.reason, target: { sid: t.sid } };
  if (typeof t?.sub === 'string') return { kind: 'revoke', instance: m.instance, reason: m.reason, target: { sub: t.sub } };
  return null;
}
