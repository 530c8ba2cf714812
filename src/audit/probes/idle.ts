/** Idle and dead peers: is a socket that neither sends nor answers pings ever closed? */
import { verdict } from '../finding.ts';
import { budgetOf, type Probe } from '../probe.ts';
import { describeClose } from '../ws.ts';
import { scopeNote, withSession } from './session-probe.ts';

export const idleTimeout: Probe = {
  id: 'idle.timeout',
  title: 'A peer that goes silent (no messages, no pongs) is dropped',
  severity: 'medium',
  reference: 'RFC 6455 §5.5.2; OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection (idle timeouts, heartbeat monitoring)',
  fix: 'Ping idle sockets and drop a peer that does not answer (hardened-ws: --heartbeat-interval and --heartbeat-timeout).',
  passive: true,
  budget: (plan) => budgetOf(plan, { sessions: 1, ms: plan.options.timeoutMs + 8_000 }),
  run: (ctx) =>
    withSession(ctx, async (ws, authenticated) => {
      ws.autoPong = false;
      const closed = await ws.closeResult(ctx.options.timeoutMs);
      const pings = `the server sent ${ws.pingsReceived} ping(s), none answered`;
      const line = `silent peer (${scopeNote(authenticated)}): ${describeClose(closed)}`;
      return closed.code !== null ? verdict('pass', line, pings) : verdict('fail', line, pings);
    }),
};
