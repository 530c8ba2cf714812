/** permessage-deflate: is it negotiated, and does a decompression bomb get past the size limit? */
import { concat, formatBytes, utf8 } from '../bytes.ts';
import { authStyle } from '../credential.ts';
import { describeRefusal, type ProbeContext } from '../context.ts';
import { deflateBomb } from '../deflate-bomb.ts';
import { frameHeader, maskFrom, Opcode, RSV1 } from '../frames.ts';
import { verdict, type Verdict } from '../finding.ts';
import { budgetOf, type Probe } from '../probe.ts';
import { describeClose, type RawWebSocket } from '../ws.ts';
import { writeWithin } from './session-probe.ts';

const OFFER: readonly [string, string] = ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'];
const MiB = 1024 * 1024;
const bombSize = (maxMessageProbe: number) => Math.max(MiB, maxMessageProbe);

/** `bytes` as one stored (uncompressed) DEFLATE block, ending like a sync flush without its 00 00 FF FF (RFC 7692 §7.2.1). */
function stored(bytes: Uint8Array): Uint8Array {
  const head = Uint8Array.of(0x00, bytes.length & 0xff, bytes.length >> 8, ~bytes.length & 0xff, (~bytes.length >> 8) & 0xff);
  return concat([head, bytes, Uint8Array.of(0x00)]);
}

/** Upgrades offering permessage-deflate; the negotiated extension line, or why not. */
async function offer(ctx: ProbeContext): Promise<{ ws: RawWebSocket; extension: string | undefined } | { refused: string }> {
  const result = await ctx.upgrade({ extraHeaders: [OFFER] });
  if (result.kind !== 'open') return { refused: describeRefusal(result) };
  const extension = result.head.headers['sec-websocket-extensions'];
  return { ws: result.ws, extension: extension !== undefined && /permessage-deflate/i.test(extension) ? extension : undefined };
}

export const deflateOffered: Probe = {
  id: 'deflate.offered',
  title: 'permessage-deflate negotiated',
  severity: 'info',
  reference: 'RFC 7692; OWASP WebSocket Security Cheat Sheet: Compression security (CRIME/BREACH-style leaks)',
  fix: 'Disable permessage-deflate unless you need it; if you do, cap the inflated size and the window bits.',
  budget: (plan) => budgetOf(plan, { upgrades: 1, ms: 5_000 }),
  run: async (ctx) => {
    const o = await offer(ctx);
    if ('refused' in o) return verdict('error', `the upgrade offering permessage-deflate was refused: ${o.refused}`);
    o.ws.destroy();
    return o.extension === undefined
      ? verdict('pass', 'offered permessage-deflate → not negotiated')
      : verdict('warn', `negotiated: ${o.extension.slice(0, 100)}`);
  },
};

export const deflateBombProbe: Probe = {
  id: 'deflate.bomb',
  title: 'A decompression bomb (about 100 KiB inflating to 16 MiB)',
  severity: 'high',
  reference: 'RFC 7692 §8.1 (limits on decompressed size); OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection',
  fix: 'Apply the message size limit to the inflated size while inflating (e.g. ws maxPayload), and close with 1009.',
  budget: (plan) => {
    const bomb = Math.ceil(((bombSize(plan.options.maxMessageProbe) / 258) * 13) / 8) + 1_024;
    return budgetOf(plan, { sessions: 1, bytes: bomb + 1_024, ms: 12_000 });
  },
  run: async (ctx): Promise<Verdict> => {
    const o = await offer(ctx);
    if ('refused' in o) return verdict('error', `the upgrade offering permessage-deflate was refused: ${o.refused}`);
    const ws = o.ws;
    try {
      if (o.extension === undefined) return verdict('not-applicable', 'permessage-deflate is not negotiated');
      let scope = 'no credential given: on an unauthenticated socket';
      if (authStyle(ctx.credentials.spec) === 'first-message') {
        const auth = await ctx.authenticate(ws, await ctx.ticket());
        if (auth.kind === 'rejected') return verdict('error', `a fresh ticket was rejected: ${describeClose(auth.close)}`);
        scope = 'after authentication';
      } else if (authStyle(ctx.credentials.spec) === 'handshake') scope = 'after authentication';
      // Control: a small compressed valid message must not close the socket, or a close after the bomb proves nothing.
      await ws.send({ opcode: Opcode.text, rsv: RSV1, payload: stored(utf8(ctx.options.message)) });
      const control = await ws.closeResult(ctx.settleMs);
      if (control.code !== null)
        return verdict(
          'not-applicable',
          `a small compressed valid message was closed (${describeClose(control)}): nothing to compare with`,
        );
      const size = bombSize(ctx.options.maxMessageProbe);
      const bomb = deflateBomb(size);
      const { header, key } = frameHeader({ opcode: Opcode.text, rsv: RSV1, length: bomb.length });
      const since = performance.now();
      let ok = await writeWithin(ws, header, ctx.stallMs);
      let sent = 0;
      while (ok && sent < bomb.length && !ws.ended) {
        const piece = bomb.subarray(sent, sent + 16 * 1024);
        ok = await writeWithin(ws, maskFrom(piece, key, sent), ctx.stallMs);
        if (ok) sent += piece.length;
      }
      const closed = await ws.closeResult(ctx.stallMs, since);
      const line = `${formatBytes(bomb.length)} compressed, ${formatBytes(size)} inflated (${scope}): sent ${formatBytes(sent)}`;
      return closed.code !== null
        ? verdict('pass', line, `then ${describeClose(closed)}`)
        : verdict('fail', line, `accepted: ${describeClose(closed)}`);
    } finally {
      ws.destroy();
    }
  },
};
