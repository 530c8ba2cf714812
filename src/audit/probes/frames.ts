/** Frame-level abuse on a usable session: fragment floods, tiny fragments, ping floods, invalid UTF-8, reserved bits and opcodes. */
import { concat, formatBytes, utf8 } from '../bytes.ts';
import { buildFrame, Opcode, RSV1, type FrameSpec } from '../frames.ts';
import { verdict } from '../finding.ts';
import { budgetOf, type Probe } from '../probe.ts';
import { describeClose, type RawWebSocket } from '../ws.ts';
import { scopeNote, withSession, writeWithin } from './session-probe.ts';

const FLOOD_BYTES = 1024 * 1024;
const FRAGMENT = 1024;
const fragmentCount = (flood: number) => Math.max(1_000, flood * 40);

/** Writes `frames` in batches of `perWrite`, stopping at the first sign of a close; returns how many went out. */
async function sendFrames(ws: RawWebSocket, frames: readonly FrameSpec[], perWrite: number, ms: number): Promise<number> {
  let sent = 0;
  while (sent < frames.length && !ws.ended) {
    const batch = frames.slice(sent, sent + perWrite);
    if (!(await writeWithin(ws, concat(batch.map(buildFrame)), ms))) break;
    sent += batch.length;
  }
  return sent;
}

export const fragmentFlood: Probe = {
  id: 'frames.fragment-flood',
  title: 'A fragmented message that never ends (1 MiB in 1 KiB fragments)',
  severity: 'high',
  reference: 'RFC 6455 §5.4, §10.4; OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection',
  fix: 'Count every fragment against the message size limit as it arrives, and close (1009) before buffering past it.',
  budget: (plan) => budgetOf(plan, { sessions: 1, bytes: FLOOD_BYTES + (FLOOD_BYTES / FRAGMENT) * 16, ms: 12_000 }),
  run: (ctx) =>
    withSession(ctx, async (ws, authenticated) => {
      const count = FLOOD_BYTES / FRAGMENT;
      const payload = new Uint8Array(FRAGMENT).fill(0x61);
      const frames: FrameSpec[] = Array.from({ length: count }, (_, i) => ({
        opcode: i === 0 ? Opcode.text : Opcode.continuation,
        fin: false,
        payload,
      }));
      const since = performance.now();
      const sent = await sendFrames(ws, frames, 64, ctx.stallMs);
      const closed = await ws.closeResult(ctx.settleMs, since);
      const line = `${sent} fragments of ${FRAGMENT} B without a final one (${formatBytes(sent * FRAGMENT)}, ${scopeNote(authenticated)})`;
      if (closed.code !== null) return verdict('pass', line, `then ${describeClose(closed)}`);
      if (sent < count) return verdict('warn', line, `the server stopped reading without closing: ${describeClose(closed)}`);
      return verdict('fail', line, `the server kept buffering: ${describeClose(closed)}`);
    }),
};

/** The harmless message (--message) padded with JSON whitespace to exactly `size` bytes. */
function paddedHarmless(message: string, size: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(size, message.length)).fill(0x20);
  bytes.set(utf8(message));
  return bytes;
}

export const tinyFragments: Probe = {
  id: 'frames.tiny-fragments',
  title: 'A message in 1-byte fragments (20,000 by default)',
  severity: 'low',
  reference: 'RFC 6455 §5.4; OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection',
  fix: 'Bound the work per message, not only its size: cap fragments per message (ws: maxFragments) or the total frame overhead.',
  budget: (plan) => budgetOf(plan, { sessions: 1, bytes: fragmentCount(plan.options.flood) * 8, ms: 12_000 }),
  run: (ctx) =>
    withSession(ctx, async (ws, authenticated, replies) => {
      const count = fragmentCount(ctx.options.flood);
      const message = paddedHarmless(ctx.options.message, count);
      const frames: FrameSpec[] = Array.from({ length: message.length }, (_, i) => ({
        opcode: i === 0 ? Opcode.text : Opcode.continuation,
        fin: i === message.length - 1,
        payload: message.subarray(i, i + 1),
      }));
      const since = performance.now();
      const before = ws.frames.length;
      const sent = await sendFrames(ws, frames, 2_000, ctx.stallMs);
      const line = `${sent} one-byte fragments of --message padded with spaces (${scopeNote(authenticated)})`;
      if (ws.ended) return verdict('pass', line, `then ${describeClose(await ws.closeResult(0, since))}`);
      if (sent < frames.length) return verdict('warn', line, 'the server stopped reading without closing');
      // Closed, or answered like the unfragmented message, in time: either is a bounded answer.
      await ws.conn.until(() => (ws.frames.length > before || ws.ended ? true : undefined), ctx.stallMs);
      const ms = Math.round(performance.now() - since);
      if (ws.ended) return verdict('pass', line, `then ${describeClose(await ws.closeResult(0, since))}`);
      if (ws.frames.length > before) return verdict('pass', line, `reassembled and answered after ${ms} ms (within the size limit)`);
      if (!replies) return verdict('pass', line, `no answer and no close after ${ms} ms (the endpoint does not answer --message anyway)`);
      return verdict('warn', line, `neither answered nor closed after ${ms} ms, although --message alone is answered: still reassembling?`);
    }),
};

export const pingFlood: Probe = {
  id: 'frames.ping-flood',
  title: 'A ping flood (--flood × 4 pings of 125 bytes)',
  severity: 'medium',
  reference: 'RFC 6455 §5.5.2; OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection',
  fix: 'Rate-limit control frames per connection, or drop a client that floods pings (most servers answer every one).',
  budget: (plan) => budgetOf(plan, { sessions: 1, bytes: plan.options.flood * 4 * 140 + 200, ms: 12_000 }),
  run: (ctx) =>
    withSession(ctx, async (ws, authenticated) => {
      const count = ctx.options.flood * 4;
      const payload = new Uint8Array(125).fill(0x70);
      const since = performance.now();
      const sent = await sendFrames(
        ws,
        Array.from({ length: count }, () => ({ opcode: Opcode.ping, payload })),
        250,
        ctx.stallMs,
      );
      const line = `${sent} pings in ${Math.round(performance.now() - since)} ms (${scopeNote(authenticated)})`;
      if (ws.ended) return verdict('pass', line, `then ${describeClose(await ws.closeResult(0, since))}`);
      await ws.conn.until(() => (ws.pongsReceived > 0 || ws.ended ? true : undefined), ctx.settleMs);
      if (ws.ended) return verdict('pass', line, `then ${describeClose(await ws.closeResult(0, since))}`);
      if (ws.pongsReceived === 0)
        return verdict('warn', line, 'no pong came back and the socket stays open: the endpoint does not answer pings (RFC 6455 §5.5.2)');
      // Is this socket still served promptly? A message after the flood, timed.
      const from = ws.frames.length;
      const probeAt = performance.now();
      await ws.sendText(ctx.options.message);
      await ws.conn.until(() => (ws.frames.length > from || ws.ended ? true : undefined), ctx.stallMs);
      const rtt = Math.round(performance.now() - probeAt);
      if (ws.ended) return verdict('pass', line, `then ${describeClose(await ws.closeResult(0, since))}`);
      if (ws.frames.length === from)
        return verdict('pass', line, 'kept open; a message after the flood got no answer in 3 s (the endpoint may not answer it)');
      const after = `kept open; a message after the flood answered in ${rtt} ms`;
      return rtt > ctx.options.struggleMs ? verdict('warn', line, `${after}: slowed down by the flood`) : verdict('pass', line, after);
    }),
};

export const invalidUtf8: Probe = {
  id: 'frames.invalid-utf8',
  title: 'A text message that is not valid UTF-8',
  severity: 'low',
  reference: 'RFC 6455 §8.1 (fail the connection), §7.4.1 (1007)',
  fix: 'Validate UTF-8 in text messages and close with 1007 (most WebSocket libraries do; check yours is not bypassed).',
  budget: (plan) => budgetOf(plan, { sessions: 1, bytes: 200, ms: 6_000 }),
  run: (ctx) =>
    withSession(ctx, async (ws, authenticated) => {
      const since = performance.now();
      const before = ws.frames.length;
      await ws.send({
        opcode: Opcode.text,
        payload: Uint8Array.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
      });
      const closed = await ws.closeResult(ctx.settleMs, since);
      const line = `text frame with bytes FF FE C3 28 (${scopeNote(authenticated)}) → ${describeClose(closed)}`;
      if (closed.code !== null)
        return verdict(
          'pass',
          line,
          closed.code === 1007 ? 'closed with 1007 as RFC 6455 says' : 'closed (1007 is the code RFC 6455 gives)',
        );
      return verdict('fail', line, ws.frames.length > before ? 'and answered it' : 'the connection stays open');
    }),
};

export const reservedBits: Probe = {
  id: 'frames.reserved',
  title: 'RSV1 without an extension, and a reserved opcode',
  severity: 'low',
  reference: 'RFC 6455 §5.2 (RSV bits, opcodes 0x3–0x7 and 0xB–0xF: fail the connection)',
  fix: 'Close with 1002 on a reserved bit no extension negotiated, or on a reserved opcode.',
  budget: (plan) => budgetOf(plan, { sessions: 2, bytes: 400, ms: 10_000 }),
  run: async (ctx) => {
    const lines: string[] = [];
    let open = 0;
    for (const [name, spec] of [
      ['text frame with RSV1 set', { opcode: Opcode.text, rsv: RSV1, payload: ctx.options.message }],
      ['frame with reserved opcode 0x3', { opcode: 0x3, payload: ctx.options.message }],
    ] as const) {
      const result = await withSession(ctx, async (ws, authenticated) => {
        const since = performance.now();
        await ws.send(spec);
        const closed = await ws.closeResult(ctx.settleMs, since);
        lines.push(`${name} (${scopeNote(authenticated)}) → ${describeClose(closed)}`);
        if (closed.code === null) open++;
        return verdict('pass');
      });
      if (result.status !== 'pass') return result;
    }
    return verdict(open > 0 ? 'fail' : 'pass', ...lines);
  },
};
