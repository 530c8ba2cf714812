/** Shared by the probes that need a usable session: not-applicable when the endpoint closes every valid message, a bounded write helper. */
import { sleep, type ProbeContext } from '../context.ts';
import { verdict, type Verdict } from '../finding.ts';
import type { RawWebSocket } from '../ws.ts';

/**
 * Runs `body` on a fresh session, or returns not-applicable/error when there is none to be had.
 * `replies`: the endpoint answered the harmless message (--message) when the run checked it.
 */
export async function withSession(
  ctx: ProbeContext,
  body: (ws: RawWebSocket, authenticated: boolean, replies: boolean) => Promise<Verdict>,
): Promise<Verdict> {
  const check = await ctx.sessionUsable();
  if (!check.usable) return verdict('not-applicable', check.why);
  const session = await ctx.session();
  if (!session.ok) return verdict('error', session.why);
  try {
    return await body(session.ws, session.authenticated, check.replied);
  } finally {
    session.ws.destroy();
  }
}

/** Writes within `ms`; false when the write failed, was refused by the budget, or is still pending (the peer stopped reading). */
export async function writeWithin(ws: RawWebSocket, bytes: Uint8Array, ms: number): Promise<boolean> {
  return Promise.race([ws.conn.write(bytes), sleep(ms).then(() => false)]);
}

export const scopeNote = (authenticated: boolean): string =>
  authenticated ? 'after authentication' : 'no credential given: on an unauthenticated socket';
