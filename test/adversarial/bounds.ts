/**
 * Case 12: what one client can make the server hold. Oversized messages
 * before auth and never-finished fragmented messages after auth must be refused with 1009 while the
 * server's RSS stays within N × (limit + slack) + a fixed allowance; a request whose headers never
 * complete must be closed within a stated time.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { sleep } from '../support/flow.ts';
import { attackerTicket, CASE, MAX_MESSAGE, note, stillServes, type Run } from './context.ts';
import {
  buildFrame,
  describeClose,
  latin1,
  Opcode,
  openAuthenticatedRaw,
  openConn,
  openRawWebSocket,
  serverHasClosed,
  utf8,
  watchRss,
  type RawConn,
  type RawWebSocket,
} from './raw.ts';

const MiB = 1024 * 1024;

/**
 * Per socket the server may hold one message up to --max-message plus this much (read buffers,
 * parser state); the fixed allowance covers the sockets themselves and the GC's slack.
 */
const SLACK_PER_SOCKET = 1 * MiB;
const FIXED_ALLOWANCE_MB = 32;
const rssBoundMb = (sockets: number) => Math.round(((sockets * (MAX_MESSAGE + SLACK_PER_SOCKET)) / MiB + FIXED_ALLOWANCE_MB) * 10) / 10;

/** A masked frame header with an all-zero masking key, so the payload can be sent as plain bytes in pieces. */
function zeroMaskHeader(opcode: number, length: number, fin = true): Buffer {
  const frame = buildFrame({ opcode, fin, lengthForm: 64, declaredLength: BigInt(length), mask: false });
  const header = Buffer.from(frame.subarray(0, 10));
  header[1] = header[1]! | 0x80; // masked, key 0: XOR with zero leaves the payload as it is
  return Buffer.concat([header, Buffer.alloc(4)]);
}

/** One fragment with a zero masking key: text (first) or continuation, FIN=0. */
function zeroMaskFragment(first: boolean, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0, 0x80 | length]) : Buffer.from([0, 0x80 | 126, length >> 8, length & 0xff]);
  header[0] = first ? Opcode.text : Opcode.continuation;
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

/** True once the server answered (close frame) or ended the connection. */
const serverDone = (ws: RawWebSocket) => ws.close !== undefined || serverHasClosed(ws.conn);

/**
 * Writes `total` bytes of `chunk`s, one write at a time (each waits for the kernel to take the
 * previous one, so the server reads as we go), until done or the server answered.
 */
async function trickle(ws: RawWebSocket, head: Buffer | undefined, chunk: Buffer, total: number): Promise<number> {
  let sent = 0;
  if (head !== undefined && !(await ws.sendRaw(head))) return sent;
  while (sent < total && !serverDone(ws)) {
    if (!(await ws.sendRaw(chunk))) break;
    sent += chunk.length;
  }
  return sent;
}

/**
 * Runs `send` on every socket at once (each holds its message unfinished at the end of it), keeps
 * them all unfinished together for a moment, then runs `finish`; asserts 1009 on each and the RSS bound.
 */
async function attack(
  t: TestContext,
  run: Run,
  label: string,
  sockets: RawWebSocket[],
  send: (ws: RawWebSocket) => Promise<number>,
  finish: (ws: RawWebSocket) => Promise<number> = async () => 0,
): Promise<void> {
  const rss = watchRss(run.server.child.pid!, 20);
  const started = performance.now();
  const sentBytes = await Promise.all(sockets.map(send));
  await sleep(300); // every message is unfinished now: a server that buffers holds them all at once
  const finished = await Promise.all(sockets.map(finish));
  const results = await Promise.all(sockets.map((ws) => ws.closeResult(5_000, started)));
  const memory = rss.stop();
  for (const ws of sockets) ws.destroy();
  const bound = rssBoundMb(sockets.length);
  const sentMb = Math.round([...sentBytes, ...finished].reduce((a, b) => a + b, 0) / MiB);
  note(
    t,
    run,
    label,
    `${sockets.length} sockets sent ${sentMb} MB in all; closes: ${results.map(describeClose).join(', ')}; server RSS +${memory.growthMb} MB (bound ${bound} MB)`,
  );
  assert.ok(
    memory.growthMb <= bound,
    `server RSS grew ${memory.growthMb} MB > ${bound} MB (${sockets.length} × (${MAX_MESSAGE} B + ${SLACK_PER_SOCKET / MiB} MiB) + ${FIXED_ALLOWANCE_MB} MB)`,
  );
  for (const closed of results) assert.equal(closed.code, 1009, `expected a 1009 close frame, got ${describeClose(closed)}`);
  await stillServes(t, run);
}

export function boundsCases(run: Run): void {
  describe('12. memory a client can make the server hold', () => {
    it(
      '8 unauthenticated sockets each sending a 30 MB first frame → 1009 each; RSS within 8 × (limit + 1 MiB) + 32 MB',
      CASE,
      async (t: TestContext) => {
        const sockets = await Promise.all(Array.from({ length: 8 }, () => openRawWebSocket(run.endpoint)));
        const chunk = Buffer.alloc(MiB, 0x61);
        // All but the last MiB first, so that a server that buffers holds all 8 at once.
        await attack(
          t,
          run,
          'pre-auth 30 MB frames',
          sockets,
          (ws) => trickle(ws, zeroMaskHeader(Opcode.text, 30 * MiB), chunk, 29 * MiB),
          (ws) => trickle(ws, undefined, chunk, MiB),
        );
      },
    );

    it(
      'after auth, 4 sockets each sending a never-finished fragmented message (8 KiB fragments, up to 60 MB) → 1009 each; RSS bounded',
      CASE,
      async (t: TestContext) => {
        const sockets = await Promise.all(
          Array.from({ length: 4 }, async () => openAuthenticatedRaw(run.endpoint, await attackerTicket(run))),
        );
        // Each fragment is under --max-message, so only a limit on the whole message can stop this.
        const fragment = Buffer.alloc(8 * 1024, 0x61);
        const batch = Buffer.concat(Array.from({ length: 128 }, () => zeroMaskFragment(false, fragment)));
        await attack(t, run, 'post-auth unfinished fragmented message', sockets, (ws) =>
          trickle(ws, zeroMaskFragment(true, fragment), batch, 60 * MiB),
        );
      },
    );
  });
}

/** Node and Deno: 10 s headersTimeout checked every 1 s; Bun: uWS's fixed ~10 s in 4 s steps. */
export const HEADER_DEADLINE_MS = 15_000;
const SLOW_CLIENTS = 20;

/** The slowloris clients of one suite run. */
export interface SlowHeaderClients {
  start(): Promise<void>;
  /** Waits until all are closed or the deadline passed; asserts all were closed. */
  wait(t: TestContext): Promise<void>;
  /** Stops trickling and drops what is left (also when wait() never ran, e.g. filtered out). */
  stop(): void;
}

/**
 * Slowloris: SLOW_CLIENTS connections that send a request line and then one header line a second,
 * never the blank line that ends the headers. Started when the suite starts and checked at its end,
 * so the wait overlaps the other cases.
 */
export function slowHeaderClients(run: Run): SlowHeaderClients {
  const conns: RawConn[] = [];
  let startedAt = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    clearInterval(timer);
    for (const c of conns) c.destroy();
  };
  return {
    stop,
    async start() {
      startedAt = performance.now();
      const host = `127.0.0.1:${run.server.port}`;
      for (let i = 0; i < SLOW_CLIENTS; i++) {
        const conn = await openConn(run.endpoint);
        void conn.write(utf8(`GET /ws HTTP/1.1\r\nHost: ${host}\r\n`));
        conns.push(conn);
      }
      let line = 0;
      timer = setInterval(() => {
        for (const conn of conns) if (!conn.closed) void conn.write(utf8(`X-Slow-${line}: ${'a'.repeat(16)}\r\n`));
        line++;
      }, 1_000);
    },
    async wait(t) {
      const deadline = startedAt + HEADER_DEADLINE_MS;
      while (performance.now() < deadline && conns.some((c) => !c.closed)) await sleep(100);
      const late = conns.filter((c) => c.closedAt === undefined || c.closedAt > deadline);
      const answers = conns.map(
        (c) => latin1(c.buffer).split('\r\n')[0] || (c.closed ? `closed${c.errorCode ? ` (${c.errorCode})` : ''}` : 'open'),
      );
      const closedAfter = conns.filter((c) => c.closedAt !== undefined).map((c) => Math.round(c.closedAt! - startedAt));
      note(
        t,
        run,
        'slowloris',
        `${SLOW_CLIENTS - late.length}/${SLOW_CLIENTS} closed within ${HEADER_DEADLINE_MS} ms` +
          `${closedAfter.length ? ` (after ${Math.min(...closedAfter)}–${Math.max(...closedAfter)} ms)` : ''}; answers: ${[...new Set(answers)].join(', ')}`,
      );
      stop();
      assert.equal(
        late.length,
        0,
        `${late.length} of ${SLOW_CLIENTS} connections with never-finished headers were not closed within ${HEADER_DEADLINE_MS} ms`,
      );
    },
  };
}
