/** Authentication: the deadline for unauthenticated sockets, nothing answered before auth, single-use and Origin-bound tickets. */
import { ticketConnections } from '../credential.ts';
import { describeRefusal, preview, sleep, type ProbeContext } from '../context.ts';
import { verdict } from '../finding.ts';
import { budgetOf, HANDSHAKE_BYTES, type Plan, type Probe } from '../probe.ts';
import { describeClose } from '../ws.ts';

const needsTicket = (plan: Plan) => (plan.auth === 'first-message' ? null : 'needs a ticket (--ticket-cmd or --login)');
const ticketBudget = (plan: Plan, upgrades: number, ms: number) => {
  const base = budgetOf(plan, { upgrades, ms });
  const tickets = ticketConnections(plan.options.credential);
  return {
    connections: base.connections + tickets,
    bytes: base.bytes + tickets * HANDSHAKE_BYTES + upgrades * 4_096,
    ms: base.ms + 10_000,
  };
};

/** An upgrade as an unauthenticated client: without the handshake credential. */
async function unauthenticated(ctx: ProbeContext) {
  return ctx.upgrade({ credential: false });
}

export const authDeadline: Probe = {
  id: 'auth.deadline',
  title: 'A socket that never authenticates is closed',
  severity: 'high',
  reference: 'OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection (idle and dead connections); ASVS 5.0 V4.4.3',
  fix: 'Close a socket that has not authenticated within a few seconds of the upgrade (hardened-ws: 4408 after --auth-timeout).',
  passive: true,
  budget: (plan) => budgetOf(plan, { upgrades: 1, bytes: 1_024, ms: plan.options.timeoutMs + 5_000 }),
  run: async (ctx) => {
    const upgraded = await unauthenticated(ctx);
    if (upgraded.kind === 'refused') {
      return upgraded.outcome.kind === 'response' &&
        upgraded.outcome.status >= 400 &&
        upgraded.outcome.status < 500 &&
        ctx.run.options.credential.kind !== 'none'
        ? verdict('pass', `an upgrade without the credential → ${describeRefusal(upgraded)}`)
        : verdict('error', `the upgrade was refused: ${describeRefusal(upgraded)}`);
    }
    // A live client (it answers pings) that simply never authenticates.
    const closed = await upgraded.ws.closeResult(ctx.options.timeoutMs);
    const scope = ctx.run.options.credential.kind === 'none' ? ' (no credential given: every socket counts as unauthenticated)' : '';
    if (closed.code !== null)
      return verdict(
        'pass',
        `silent socket closed: ${describeClose(closed)}${scope}`,
        `pings from the server: ${upgraded.ws.pingsReceived}`,
      );
    return verdict('fail', `silent socket ${describeClose(closed)}${scope}`, `pings from the server: ${upgraded.ws.pingsReceived}`);
  },
};

export const authPreAuth: Probe = {
  id: 'auth.pre-auth',
  title: 'Nothing is answered before authentication',
  severity: 'high',
  reference: 'OWASP WebSocket Security Cheat Sheet: Authentication and Authorization; ASVS 5.0 V4.4.3',
  fix: 'Dispatch no message before the connection is authenticated; close (1008) on anything but the auth message.',
  budget: (plan) => budgetOf(plan, { upgrades: 1, bytes: 4_096, ms: 5_000 }),
  run: async (ctx) => {
    const upgraded = await unauthenticated(ctx);
    if (upgraded.kind === 'refused') {
      return ctx.run.options.credential.kind !== 'none' && upgraded.outcome.kind === 'response' && upgraded.outcome.status >= 400
        ? verdict('pass', `an upgrade without the credential → ${describeRefusal(upgraded)}`)
        : verdict('error', `the upgrade was refused: ${describeRefusal(upgraded)}`);
    }
    const ws = upgraded.ws;
    await sleep(300); // a greeting sent on open is not an answer
    const before = ws.frames.length;
    const since = performance.now();
    await ws.sendText(ctx.options.message);
    await ws.sendText('hello');
    const closed = await ws.closeOr(() => ws.frames.length > before, ctx.settleMs, since);
    const answers = ws.frames.slice(before);
    const scope = ctx.run.options.credential.kind === 'none' ? ' (no credential given: nothing was authenticated)' : '';
    if (answers.length > 0)
      return verdict(
        'fail',
        `${answers.length} message(s) answered before authentication${scope}, first: ${preview(answers[0]!.payload)}`,
        `then: ${describeClose(closed)}`,
      );
    return verdict('pass', `2 messages before authentication → no answer; ${describeClose(closed)}`);
  },
};

export const authReplay: Probe = {
  id: 'auth.replay',
  title: 'A used ticket is refused the second time',
  severity: 'high',
  reference:
    'ASVS 5.0 V4.4.3 (dedicated tokens follow session-token rules); OWASP WebSocket Security Cheat Sheet: Token-based authentication',
  fix: 'Make tickets single use: consume them atomically when verified (whatever the outcome).',
  applies: needsTicket,
  budget: (plan) => ticketBudget(plan, 2, 10_000),
  run: async (ctx) => {
    const ticket = await ctx.ticket();
    const first = await ctx.upgrade();
    if (first.kind !== 'open') return verdict('error', `the upgrade was refused: ${describeRefusal(first)}`);
    const firstAuth = await ctx.authenticate(first.ws, ticket);
    first.ws.destroy();
    if (firstAuth.kind === 'rejected') return verdict('error', `a fresh ticket was rejected: ${describeClose(firstAuth.close)}`);
    const second = await ctx.upgrade();
    if (second.kind !== 'open') return verdict('error', `the second upgrade was refused: ${describeRefusal(second)}`);
    const again = await ctx.authenticate(second.ws, ticket);
    const firstLine = `first use → ${firstAuth.confirmed ? 'auth.ok' : 'accepted (socket stayed open)'}`;
    if (again.kind === 'rejected') return verdict('pass', firstLine, `second use → ${describeClose(again.close)}`);
    if (again.confirmed) return verdict('fail', firstLine, 'second use → auth.ok (the ticket was accepted twice)');
    const from = second.ws.frames.length;
    await second.ws.sendText(ctx.options.message);
    const closed = await second.ws.closeResult(ctx.settleMs);
    if (second.ws.frames.length > from) return verdict('fail', firstLine, 'second use → the socket stayed open and answered a message');
    return verdict('warn', firstLine, `second use → no auth.ok and no close; a message got no answer (${describeClose(closed)})`);
  },
};

export const authTicketOrigin: Probe = {
  id: 'auth.ticket-origin',
  title: 'A ticket obtained by the own Origin is refused from another Origin',
  severity: 'high',
  reference: 'ASVS 5.0 V4.4.4; OWASP WebSocket Security Cheat Sheet: Cross-Site WebSocket Hijacking',
  fix: 'Bind each ticket to the Origin of the request that obtained it and compare it when the ticket is verified.',
  applies: needsTicket,
  budget: (plan) => ticketBudget(plan, 1, 6_000),
  run: async (ctx) => {
    const ticket = await ctx.ticket(ctx.target.ownOrigin);
    const foreign = await ctx.upgrade({ origin: 'https://evil.example' });
    if (foreign.kind !== 'open')
      return verdict(
        'pass',
        `upgrade from https://evil.example → ${describeRefusal(foreign)}: the Origin check stops a stolen ticket before it is read`,
      );
    const auth = await ctx.authenticate(foreign.ws, ticket);
    if (auth.kind === 'rejected')
      return verdict(
        'pass',
        'upgrade from https://evil.example → 101',
        `ticket from ${ctx.target.ownOrigin} → ${describeClose(auth.close)}`,
      );
    return verdict(
      'fail',
      'upgrade from https://evil.example → 101',
      `ticket from ${ctx.target.ownOrigin} → ${auth.confirmed ? 'auth.ok' : 'accepted (socket stayed open)'}`,
    );
  },
};
