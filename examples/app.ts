// The part of a library app every runtime shares: how tickets are issued and verified, and the
// handlers. Your login stands where `sessions` is: this example has two fixed session tokens.
import type { Hono } from 'hono';
import { builtinHandlers, channelHandlers, type Handler, type Handlers, type Verifier } from 'hardened-ws';

/** Stands in for your app's login sessions: session token → user. */
const sessions = new Map([
  ['session-token-alice', 'alice'],
  ['session-token-bob', 'bob'],
]);

/** Tickets this app issued and nobody has used yet: single use, 30 s, bound to the Origin. */
const tickets = new Map<string, { sub: string; origin: string | null; expiresAt: number }>();
const TICKET_TTL_MS = 30_000;

/** POST /tickets (Authorization: Bearer <session token>) → 201 {ticket}. Call it once per connection attempt. */
export function ticketRoute(app: Hono): void {
  app.post('/tickets', (c) => {
    const token = c.req.header('authorization')?.replace(/^Bearer /, '') ?? '';
    const sub = sessions.get(token);
    if (sub === undefined) return c.json({ error: 'unauthorized' }, 401);
    const now = Date.now();
    for (const [unused, issued] of tickets) if (issued.expiresAt < now) tickets.delete(unused); // never used: forget
    const ticket = randomTicket();
    tickets.set(ticket, { sub, origin: c.req.header('origin') ?? null, expiresAt: now + TICKET_TTL_MS });
    return c.json({ ticket }, 201);
  });
}

/** The gateway asks this once per socket, before anything the client sends is dispatched. */
export const verifier: Verifier = {
  async verify({ ticket, origin }) {
    const issued = tickets.get(ticket);
    tickets.delete(ticket); // single use, whatever the outcome
    if (issued === undefined || issued.expiresAt < Date.now() || issued.origin !== origin) {
      return { kind: 'rejected', reason: 'invalid_ticket' };
    }
    const exp = Math.floor(Date.now() / 1000) + 3600; // the session's end, in epoch seconds
    // Channel permissions are claims: what this user may subscribe and publish to.
    return { kind: 'ok', identity: { sub: issued.sub, exp, claims: { subscribe: ['chat:*'], publish: ['chat:*'] } } };
  },
};

/** An app handler of its own, next to the built-ins (echo, ping) and the channels. */
const whoami: Handler = (message, ctx) => {
  ctx.send({ type: 'whoami', id: message.id, sub: ctx.identity.sub });
};

export const handlers: Handlers = {
  ...builtinHandlers,
  // chat:* keeps its last 100 messages (5 min) with offsets, so a client that reconnects recovers
  // what it missed; presence and join/leave too. Other channels are live only.
  ...channelHandlers({ namespaces: { chat: { historySize: 100, recovery: true, presence: true, joinLeave: true } } }),
  whoami,
};

function randomTicket(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}
