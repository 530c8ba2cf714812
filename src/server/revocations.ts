/**
 * Revocations reach every instance: the sockets of a logged-out session, a kicked user or one the
 * application disconnects (server API) may be held anywhere. Each revocation is applied here at
 * once and published on the control channel; every instance applies what it receives from the others.
 */
import type { Broker } from '../channels/broker.ts';
import { CONTROL_CHANNEL } from '../channels/index.ts';
import { applicationClose, CloseCodes, type CloseCodeInfo } from '../protocol/close-codes.ts';
import type { Gateway, RevocationTarget } from '../core/gateway.ts';
import type { Logger } from '../logging/logger.ts';

type Reason = 'logout' | 'admin_kick' | 'api_disconnect';
const CLOSE = { logout: CloseCodes.sessionRevoked, admin_kick: CloseCodes.kicked } as const;

interface ControlMessage {
  readonly kind: 'revoke';
  readonly instance: string;
  readonly reason: Reason;
  readonly target: RevocationTarget;
  /** `api_disconnect` only: the close code the application chose (4000–4999, see applicationClose). */
  readonly code?: number;
}

export interface RevocationBus {
  /** Closes matching sockets here and asks the other instances to do the same; returns how many closed here. */
  revoke(target: RevocationTarget, reason: 'logout' | 'admin_kick'): Promise<number>;
  /** The server API's disconnect: like revoke, with the application's close code (one `applicationClose` accepts). */
  disconnect(target: RevocationTarget, code: number): Promise<number>;
  /** Whether this instance is listening on the control channel (readiness). */
  readonly listening: boolean;
  close(): void;
}

export function createRevocationBus(broker: Broker, gateway: Gateway, logger: Logger): RevocationBus {
  const instance = crypto.randomUUID();
  let stop: (() => void) | undefined;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const closeFor = (message: ControlMessage): CloseCodeInfo | null =>
    message.reason === 'api_disconnect' ? applicationClose(message.code ?? -1) : CLOSE[message.reason];
  const apply = (message: ControlMessage) => {
    const info = closeFor(message);
    return info === null ? 0 : gateway.revoke(message.target, info, message.reason);
  };
  const send = async (message: ControlMessage) => {
    const closedHere = apply(message);
    try {
      await broker.publish({ channel: CONTROL_CHANNEL, data: message, from: instance });
    } catch {
      logger.error({ reason: message.reason }, 'revocation.fanout_failed');
      throw Object.assign(new Error('revocation could not reach other instances'), { code: 'unavailable' });
    }
    return closedHere;
  };

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
    revoke: (target, reason) => send({ kind: 'revoke', instance, reason, target }),
    async disconnect(target, code) {
      if (applicationClose(code) === null) throw new RangeError('not an application close code');
      return send({ kind: 'revoke', instance, reason: 'api_disconnect', target, code });
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
  if (m.kind !== 'revoke' || typeof m.instance !== 'string' || !REASONS.has(m.reason as Reason)) return null;
  const reason = m.reason as Reason;
  if (reason === 'api_disconnect' && applicationClose(m.code ?? -1) === null) return null;
  const target = readTarget(m.target);
  if (target === null) return null;
  return reason === 'api_disconnect'
    ? { kind: 'revoke', instance: m.instance, reason, target, code: m.code! }
    : { kind: 'revoke', instance: m.instance, reason, target };
}

const REASONS = new Set<Reason>(['logout', 'admin_kick', 'api_disconnect']);
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 256;

/** Only the target shapes RevocationTarget allows, copied field by field. */
function readTarget(value: unknown): RevocationTarget | null {
  if (typeof value !== 'object' || value === null) return null;
  const t = value as Record<string, unknown>;
  const { sub, sid, connectionId } = t;
  if (isId(sub) && isId(connectionId)) return { sub, connectionId };
  if (isId(sub) && isId(sid)) return { sub, sid };
  if (isId(sid)) return { sid };
  if (isId(sub)) return { sub };
  return null;
}
