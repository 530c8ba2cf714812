/**
 * A client that asks for replies and never reads them: does the server bound what it queues for
 * it? Seen from outside by whether the connection ends while we do not read (a write fails, or a
 * close frame sits behind the queued replies when we finally read).
 */
import { formatBytes, utf8 } from '../bytes.ts';
import { sleep } from '../context.ts';
import { buildFrame, Opcode } from '../frames.ts';
import { verdict } from '../finding.ts';
import { budgetOf, type Probe } from '../probe.ts';
import { describeClose } from '../ws.ts';
import { scopeNote, withSession, writeWithin } from './session-probe.ts';

const MESSAGE = 32 * 1024;

const echo = (id: string, size: number) => {
  const head = `{"type":"echo","id":"${id}","data":"`;
  const bytes = new Uint8Array(size).fill(0x61);
  bytes.set(utf8(head));
  bytes.set(utf8('"}'), size - 2);
  return bytes;
};

export const slowReader: Probe = {
  id: 'slow-reader',
  title: 'A client that never reads its replies (send-buffer limit)',
  severity: 'medium',
  reference: 'OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection (backpressure controls)',
  fix: 'Cap the bytes queued for one client and close it past the cap (hardened-ws: 4413 at --max-buffered).',
  budget: (plan) =>
    budgetOf(plan, {
      sessions: 1,
      bytes: plan.options.floodBytes + 2 * MESSAGE,
      ms: 16_000 + Math.ceil((plan.options.floodBytes / MESSAGE / plan.options.messageRate) * 1000),
    }),
  applies: (plan) =>
    plan.target.secure && !plan.tlsClient.pauseStopsReading
      ? "this runtime's TLS client keeps reading a paused socket, so it cannot stop reading: run the audit on Node or Bun"
      : null,
  run: (ctx) =>
    withSession(ctx, async (ws, authenticated) => {
      // Only a request that is answered in kind can pile anything up.
      await ws.send({ opcode: Opcode.text, payload: echo('audit-slow-check', MESSAGE) });
      const answered = await ws.conn.until(() => (ws.dataBytesReceived >= MESSAGE / 2 || ws.ended ? true : undefined), ctx.settleMs);
      if (!answered || ws.ended)
        return verdict(
          'not-applicable',
          `a ${formatBytes(MESSAGE)} echo request got no comparable reply (${formatBytes(ws.dataBytesReceived)}): nothing to make the server queue`,
        );
      const before = ws.dataBytesReceived;
      ws.autoPong = false;
      ws.conn.pause();
      const since = performance.now();
      const gap = 1000 / ctx.options.messageRate;
      let sent = 0;
      for (let i = 0; sent + MESSAGE <= ctx.options.floodBytes && !ws.conn.ended; i++) {
        if (!(await writeWithin(ws, buildFrame({ opcode: Opcode.text, payload: echo(`audit-slow-${i}`, MESSAGE) }), ctx.stallMs))) break;
        sent += MESSAGE;
        await sleep(since + (i + 1) * gap - performance.now());
      }
      const endedWhileUnread = ws.conn.ended;
      const pausedMs = Math.round(performance.now() - since);
      // Read what piled up: a close frame behind the replies means the server gave up on us.
      const closed = await ws.closeOr(() => ws.dataBytesReceived - before >= sent, 5_000, since, 300);
      const read = ws.dataBytesReceived - before;
      const line = `asked for ${formatBytes(sent)} of replies in ${pausedMs} ms without reading (${scopeNote(authenticated)})`;
      if (endedWhileUnread)
        return verdict('pass', line, `the server ended the connection while we did not read; then ${describeClose(closed)}`);
      if (closed.code !== null) return verdict('pass', line, `read ${formatBytes(read)} of replies, then ${describeClose(closed)}`);
      return verdict(
        'warn',
        line,
        `read ${formatBytes(read)} of replies and the socket is ${describeClose(closed)}: no send-buffer limit seen up to --flood-bytes`,
      );
    }),
};
