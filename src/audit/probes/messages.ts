/** Message size and message rate limits, measured on a usable (authenticated when possible) session. */
import { concat, formatBytes, utf8 } from '../bytes.ts';
import type { ProbeContext } from '../context.ts';
import { buildFrame, frameHeader, maskFrom, Opcode } from '../frames.ts';
import { verdict, type Verdict } from '../finding.ts';
import { budgetOf, type Probe } from '../probe.ts';
import { describeClose } from '../ws.ts';
import { scopeNote, withSession, writeWithin } from './session-probe.ts';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** An echo request padded to exactly `size` bytes. */
function paddedMessage(size: number): Uint8Array {
  const head = '{"type":"echo","id":"audit-size","data":"';
  const tail = '"}';
  const bytes = new Uint8Array(size).fill(0x61);
  bytes.set(utf8(head));
  bytes.set(utf8(tail), size - tail.length);
  return bytes;
}

type SizeResult = { readonly outcome: 'accepted' | 'refused' | 'stalled'; readonly line: string };

/** Sends one `size`-byte text message in 64 KiB pieces, stopping at the first sign of a close. */
async function trySize(ctx: ProbeContext, size: number): Promise<SizeResult | Verdict> {
  let result: SizeResult | undefined;
  const outcome = await withSession(ctx, async (ws, authenticated) => {
    const payload = paddedMessage(size);
    const { header, key } = frameHeader({ opcode: Opcode.text, length: size });
    const since = performance.now();
    let sent = 0;
    let ok = await writeWithin(ws, header, ctx.stallMs);
    while (ok && sent < size && !ws.ended) {
      const piece = payload.subarray(sent, sent + CHUNK);
      ok = await writeWithin(ws, maskFrom(piece, key, sent), ctx.stallMs); // not taken in time: the server stopped reading
      if (ok) sent += piece.length;
    }
    const closed = await ws.closeOr(() => ws.frames.length > 0, ctx.settleMs, since);
    const what = `${formatBytes(size)} message (${scopeNote(authenticated)}): sent ${formatBytes(sent)}`;
    if (closed.code !== null) result = { outcome: 'refused', line: `${what}, then ${describeClose(closed)}` };
    else if (sent < size)
      result = { outcome: 'stalled', line: `${what}, then the server stopped reading without closing (${describeClose(closed)})` };
    else result = { outcome: 'accepted', line: `${what}, accepted (${ws.frames.length > 0 ? 'answered' : 'socket still open'})` };
    return verdict('pass');
  });
  return result ?? outcome;
}

export const messageSize: Probe = {
  id: 'message.size',
  title: 'Message size limit (1 MiB, then 16 MiB)',
  severity: 'high',
  reference: 'OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection (message size limits, typically 64 KB); RFC 6455 §10.4',
  fix: 'Cap messages at what the application needs (e.g. 64 KiB) and close with 1009 as soon as a frame header announces more.',
  budget: (plan) =>
    budgetOf(plan, {
      sessions: 2,
      bytes: MiB + plan.options.maxMessageProbe + 64,
      ms: 20_000 + Math.ceil(plan.options.maxMessageProbe / MiB) * 1_000,
    }),
  run: async (ctx) => {
    const first = await trySize(ctx, MiB);
    if (!('outcome' in first)) return first;
    if (first.outcome === 'refused') return verdict('pass', first.line);
    if (first.outcome === 'stalled') return verdict('warn', first.line, 'neither refused nor accepted');
    if (ctx.options.maxMessageProbe <= MiB) return verdict('warn', first.line, 'larger sizes not tried (--max-message-probe)');
    const second = await trySize(ctx, ctx.options.maxMessageProbe);
    if (!('outcome' in second)) return verdict('warn', first.line, ...second.evidence);
    return verdict(second.outcome === 'accepted' ? 'fail' : 'warn', first.line, second.line);
  },
};

export const messageRate: Probe = {
  id: 'message.rate',
  title: 'Message rate limit (a burst of --flood messages)',
  severity: 'medium',
  reference: 'OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection (rate limiting)',
  fix: 'Limit messages per connection (a token bucket) and close (hardened-ws: 4429) or drop past it.',
  budget: (plan) => budgetOf(plan, { sessions: 1, bytes: plan.options.flood * (plan.options.message.length + 16), ms: 8_000 }),
  run: (ctx) =>
    withSession(ctx, async (ws, authenticated) => {
      const one = utf8(ctx.options.message);
      const since = performance.now();
      let sent = 0;
      // 50 messages per write: a burst, yet it stops soon after a close.
      while (sent < ctx.options.flood && !ws.ended) {
        const count = Math.min(50, ctx.options.flood - sent);
        const batch = concat(Array.from({ length: count }, () => buildFrame({ opcode: Opcode.text, payload: one })));
        if (!(await writeWithin(ws, batch, ctx.stallMs))) break;
        sent += count;
      }
      const burstMs = Math.round(performance.now() - since);
      const closed = await ws.closeOr(() => ws.frames.length >= sent, ctx.settleMs, since);
      const line = `${sent} messages in ${burstMs} ms (${scopeNote(authenticated)}); ${ws.frames.length} answers read`;
      if (closed.code !== null) return verdict('pass', line, `then ${describeClose(closed)}`);
      return verdict('warn', line, `no limit seen: ${describeClose(closed)} (raise --flood to push harder)`);
    }),
};
