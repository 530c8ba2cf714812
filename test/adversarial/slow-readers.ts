/**
 * Cases 4 and 9: clients that stop reading, each on a server of its own whose heartbeat (30 s
 * ping, 10 s to answer) is far too slow to be what ends them. Asserted the same on every runtime,
 * from the kernel's view of the server's end of the connection (/proc/net/tcp), since a client
 * that does not read cannot learn it was dropped by reading:
 *   4. a ping flood from a client that reads nothing is dropped within PING_FLOOD_BOUND_MS;
 *   9. a slow consumer is closed 4413 and the server process lets go of its connection within
 *      SLOW_CONSUMER_BOUND_MS of that decision (1 s for the reader to catch up, then dropped);
 *  9b. the same for a channel subscriber fed by the runtime's own fan-out (Bun's topics, one
 *      frame for every socket on Node), and what it was sent is a gapless prefix of the channel
 *      while a subscriber that reads gets every publication.
 * All with the server's RSS bounded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { authenticated, login, sleep, ticket } from '../support/flow.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import {
  assertAlive,
  ATTACKER,
  CASE,
  DEMO_USERS,
  endpointOf,
  EchoLoop,
  note,
  RSS_BOUND_MB,
  stillServes,
  summary,
  targetOf,
  type Run,
} from './context.ts';
import {
  buildFrame,
  describeClose,
  Opcode,
  openAuthenticatedRaw,
  serverEnd,
  serverReleased,
  watchRss,
  type RawWebSocket,
  type TcpEnd,
} from './raw.ts';

/** From the start of a ping flood to the server dropping that client. */
export const PING_FLOOD_BOUND_MS = 5_000;
/** From the server's 4413 decision (its `limit.hit` log line) to the process letting go of the connection. */
export const SLOW_CONSUMER_BOUND_MS = 2_000;

/**
 * Runtimes whose drop resets the connection (RST), so the kernel frees what the client did not
 * read at once. Elsewhere the kernel keeps the closed connection as an orphan with its send queue
 * until the peer reads or it gives up (docs/security.md, "Where the runtimes differ").
 */
const RESETS_ON_DROP: readonly string[] = ['node'];

const ownServerArgs = ['--login-rate', '50/s,100', '--ticket-rate', '200/s,400', '--demo-users', DEMO_USERS];

async function waitUntil(check: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}

const describeEnd = (end: TcpEnd | null) =>
  end === null ? 'gone' : `${end.state}${end.owned ? '' : ' (orphan)'}, ${Math.round(end.sendQueue / 1024)} KiB queued`;

async function attackerSocket(server: ServerProcess): Promise<RawWebSocket> {
  const target = targetOf(server);
  const ws = await openAuthenticatedRaw(
    endpointOf(server.origin),
    await ticket(target, await login(target, ATTACKER.username, ATTACKER.password)),
  );
  ws.autoPong = false;
  ws.conn.pause();
  return ws;
}

export function slowReaderCases(run: Run): void {
  describe('4. ping flood from a client that never reads (default heartbeat)', () => {
    let server: ServerProcess | undefined;
    before(async () => {
      server = await startServer(run.runtime, { args: ownServerArgs });
    });
    after(async () => {
      await server?.stop();
    });

    it(
      `pings as fast as the socket takes them, no reads → dropped within ${PING_FLOOD_BOUND_MS / 1000} s, RSS bounded; a good client is unaffected`,
      CASE,
      async (t: TestContext) => {
        const target = targetOf(server!);
        const loop = new EchoLoop(target, await login(target), 100);
        await loop.start();
        const ws = await attackerSocket(server!);
        const rss = watchRss(server!.child.pid!);
        const started = performance.now();
        const batch = Buffer.concat(
          Array.from({ length: 1_000 }, () => buildFrame({ opcode: Opcode.ping, payload: Buffer.alloc(125, 0x70) })),
        );
        let pings = 0;
        let flooding = true;
        const flood = (async () => {
          while (flooding && !ws.conn.ended) {
            pings += 1_000;
            // Only as fast as the server takes them (the kernel took the batch), or one batch per
            // 50 ms once it stops: the test process must not buffer the flood itself.
            await Promise.race([ws.conn.write(batch), sleep(50)]);
          }
        })();
        const dropped = await waitUntil(() => serverReleased(ws.conn), PING_FLOOD_BOUND_MS + 1_000);
        const droppedAfter = Math.round(performance.now() - started);
        flooding = false;
        await flood;
        const memory = rss.stop();
        const end = serverEnd(ws.conn);
        // Reading again, the client must reach the end of the connection (after whatever was queued).
        const closed = await ws.closeResult(5_000, started);
        ws.destroy();
        const good = await loop.stop();
        note(
          t,
          run,
          'ping flood (default heartbeat)',
          `${dropped ? `dropped after ${droppedAfter} ms` : `still held after ${droppedAfter} ms`} and ${pings} pings; server end ${describeEnd(end)}; ` +
            `client saw ${describeClose(closed)}; server RSS +${memory.growthMb} MB; good client ${summary(good.rtts)}`,
        );
        assertAlive(server!);
        assert.ok(memory.growthMb < RSS_BOUND_MB, `server RSS grew ${memory.growthMb} MB`);
        assert.ok(
          dropped && droppedAfter <= PING_FLOOD_BOUND_MS,
          `the server must drop a client that floods pings and never reads within ${PING_FLOOD_BOUND_MS} ms`,
        );
        assert.notEqual(closed.code, null, 'reading again, the client reaches the end of the connection');
        assert.deepEqual(good.failures, [], 'the good client kept echoing');
        assert.equal(good.closedEarly, undefined, 'the good client was not disconnected');
        await stillServes(t, run, server!, target);
      },
    );
  });

  describe('9. slow reader (default heartbeat)', () => {
    // A message rate high enough to pile up megabytes of replies, and the send-buffer limit small.
    let server: ServerProcess | undefined;
    before(async () => {
      server = await startServer(run.runtime, {
        args: ['--max-message', '16KiB', '--message-rate', '10000/s,20000', '--max-buffered', '256KiB', ...ownServerArgs],
      });
    });
    after(async () => {
      await server?.stop();
    });

    it(
      `stops reading, asks for 2,000 echoes of 8 KiB → 4413, and the server lets go of the connection within ${SLOW_CONSUMER_BOUND_MS / 1000} s; RSS bounded`,
      CASE,
      async (t: TestContext) => {
        const ws = await attackerSocket(server!);
        const rss = watchRss(server!.child.pid!);
        const started = Date.now(); // the server's log times are epoch milliseconds
        const since = performance.now();
        const data = 'd'.repeat(8 * 1024);
        let sent = 0;
        // 100 requests per 50 ms: fast enough to outrun the reader, slow enough that the server's own
        // queue of unprocessed messages (256) is not what closes the socket.
        while (sent < 2_000 && serverEnd(ws.conn)?.owned) {
          for (let i = 0; i < 100; i++) void ws.sendJson({ type: 'echo', id: sent++, data });
          await sleep(50);
        }
        const limitHit = () => server!.logs().find((l) => l.msg === 'limit.hit' && l.limit === 'send_buffer');
        assert.ok(await waitUntil(() => limitHit() !== undefined, 5_000), 'the server decided 4413 (limit.hit send_buffer)');
        const decidedAt = Number(limitHit()!.time);
        const released = await waitUntil(() => serverReleased(ws.conn), decidedAt + SLOW_CONSUMER_BOUND_MS + 3_000 - Date.now());
        const releasedAfter = Date.now() - decidedAt;
        const memory = rss.stop();
        const end = serverEnd(ws.conn);
        // Reading again, the client must reach the end of the connection (after what was queued).
        const closed = await ws.closeResult(5_000, since);
        const echoes = ws.frames.length - 1;
        ws.destroy();
        note(
          t,
          run,
          'slow reader (default heartbeat)',
          `sent ${sent}; 4413 decided ${decidedAt - started} ms in; server ${released ? `let go ${releasedAfter} ms after` : `still held it ${releasedAfter} ms after`}; ` +
            `server end then ${describeEnd(end)}; reading again: ${describeClose(closed)} after ${echoes} echo replies; server RSS +${memory.growthMb} MB`,
        );
        assertAlive(server!);
        assert.ok(memory.growthMb < RSS_BOUND_MB, `server RSS grew ${memory.growthMb} MB`);
        assert.ok(
          released && releasedAfter <= SLOW_CONSUMER_BOUND_MS,
          `the server must let go of a slow consumer within ${SLOW_CONSUMER_BOUND_MS} ms of the 4413`,
        );
        if (RESETS_ON_DROP.includes(run.runtime)) assert.equal(end, null, 'reset: the kernel keeps nothing of the connection');
        assert.ok(
          closed.code === 4413 || closed.code === 1006,
          `reading again ends in 4413 or a dropped connection, got ${describeClose(closed)}`,
        );
        await stillServes(t, run, server!, targetOf(server!));
      },
    );
  });

  describe('9b. slow subscriber of a channel (fan-out)', () => {
    let server: ServerProcess | undefined;
    before(async () => {
      server = await startServer(run.runtime, {
        args: ['--max-message', '16KiB', '--message-rate', '10000/s,20000', '--max-buffered', '256KiB', ...ownServerArgs],
      });
    });
    after(async () => {
      await server?.stop();
    });

    it(
      `stops reading while 8 KiB publications fan out → 4413 within the buffer cap, let go within ${SLOW_CONSUMER_BOUND_MS / 1000} s; it was sent a gapless prefix, a reading subscriber got everything`,
      CASE,
      async (t: TestContext) => {
        const target = targetOf(server!);
        const channel = 'chat:slow-subscriber';
        const slow = await openAuthenticatedRaw(
          endpointOf(server!.origin),
          await ticket(target, await login(target, ATTACKER.username, ATTACKER.password)),
        );
        slow.autoPong = false;
        await slow.sendJson({ type: 'subscribe', id: 's', channel });
        assert.ok(await slow.message((m) => m.type === 'ok' && m.id === 's'), 'the slow subscriber subscribed');
        slow.conn.pause();
        const cookie = await login(target);
        const reader = await authenticated(target, cookie);
        reader.send({ type: 'subscribe', id: 'r', channel });
        const publisher = await authenticated(target, cookie);
        const deadline = Date.now() + 5_000;
        while (!reader.messages.some((m) => m.type === 'ok' && m.id === 'r') && Date.now() < deadline) await sleep(20);
        t.after(() => {
          slow.destroy();
          publisher.close();
          reader.close();
        });
        const rss = watchRss(server!.child.pid!);
        const started = Date.now();
        const since = performance.now();
        const data = 'p'.repeat(8 * 1024);
        const limitHit = () => server!.logs().find((l) => l.msg === 'limit.hit' && l.limit === 'send_buffer');
        let published = 0;
        // 100 publications per 50 ms, until the server has closed the slow subscriber (or 3,000: ~24 MB).
        while (published < 3_000 && limitHit() === undefined) {
          for (let i = 0; i < 100; i++) publisher.send({ type: 'publish', id: published++, channel, data });
          await sleep(50);
        }
        assert.ok(await waitUntil(() => limitHit() !== undefined, 5_000), 'the server decided 4413 (limit.hit send_buffer)');
        const decidedAt = Number(limitHit()!.time);
        const released = await waitUntil(() => serverReleased(slow.conn), decidedAt + SLOW_CONSUMER_BOUND_MS + 3_000 - Date.now());
        const releasedAfter = Date.now() - decidedAt;
        const memory = rss.stop();
        // Every publish acknowledged, and the reading subscriber has each of them, in order.
        const acked = () => publisher.messages.filter((m) => m.type === 'ok').length;
        const delivered = () => reader.messages.filter((m) => m.type === 'message');
        await waitUntil(() => acked() === published && delivered().length >= published, 10_000);
        const readerOffsets = delivered().map((m) => Number(m.offset));
        // Reading again, the slow one gets what it was sent, then the end of the connection.
        const closed = await slow.closeResult(5_000, since);
        const slowOffsets = slow.frames
          .filter((f) => f.opcode === Opcode.text)
          .map((f) => JSON.parse(Buffer.from(f.payload).toString()) as Record<string, unknown>)
          .filter((m) => m.type === 'message')
          .map((m) => Number(m.offset));
        note(
          t,
          run,
          'slow channel subscriber',
          `${published} published; 4413 decided ${decidedAt - started} ms in; server ${released ? `let go ${releasedAfter} ms after` : `still held it ${releasedAfter} ms after`}; ` +
            `the slow one was sent ${slowOffsets.length} (${slowOffsets[0]}…${slowOffsets.at(-1)}), then ${describeClose(closed)}; the reader got ${readerOffsets.length}; server RSS +${memory.growthMb} MB`,
        );
        assertAlive(server!);
        assert.ok(memory.growthMb < RSS_BOUND_MB, `server RSS grew ${memory.growthMb} MB`);
        assert.ok(
          released && releasedAfter <= SLOW_CONSUMER_BOUND_MS,
          `the server must let go of a slow subscriber within ${SLOW_CONSUMER_BOUND_MS} ms of the 4413`,
        );
        assert.ok(
          closed.code === 4413 || closed.code === 1006,
          `reading again ends in 4413 or a dropped connection, got ${describeClose(closed)}`,
        );
        assert.equal(acked(), published, 'every publish was acknowledged');
        assert.equal(readerOffsets.length, published, 'the reading subscriber got every publication');
        assert.ok(
          readerOffsets.every((offset, i) => i === 0 || offset === readerOffsets[i - 1]! + 1),
          'the reading subscriber got them in order, no gap',
        );
        assert.ok(slowOffsets.length > 0 && slowOffsets.length < published, 'the slow subscriber was sent part of them');
        assert.ok(
          slowOffsets.every((offset, i) => i === 0 || offset === slowOffsets[i - 1]! + 1),
          'what the slow subscriber was sent has no gap: nothing dropped while it stayed open',
        );
        await stillServes(t, run, server!, target);
      },
    );
  });
}
