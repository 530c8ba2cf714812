/** Backoff with full jitter, retry classes from the close-code table, server hints, logout. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffCeiling, describeCloseCode, fullJitter, parseCloseReason, retryClassOf } from '../../src/client/index.ts';
import { CloseCodes } from '../../src/protocol/close-codes.ts';
import { FakeSocket, settle } from './fakes.ts';
import { harness, leakCheckMaterial } from './harness.ts';
import { assertNoLeaks } from './leaks.ts';

const bounds = { minMs: 500, maxMs: 30_000 };

/** How long after `since` the next socket is created. */
async function delayUntilNextSocket(h: ReturnType<typeof harness>, stepMs = 10, limitMs = 120_000): Promise<number> {
  const before = FakeSocket.instances.length;
  let waited = 0;
  await settle();
  while (FakeSocket.instances.length === before) {
    if (waited > limitMs) throw new Error('no reconnect');
    await h.clock.advance(stepMs);
    waited += stepMs;
  }
  return waited;
}

describe('backoff', () => {
  it('ceilings double from minMs and stop at maxMs', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => backoffCeiling(n, bounds)),
      [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000],
    );
  });

  it('full jitter: anywhere in [0, ceiling), driven by the random source', () => {
    assert.equal(
      fullJitter(3, bounds, () => 0),
      0,
    );
    assert.equal(
      fullJitter(3, bounds, () => 0.5),
      2000,
    );
    assert.equal(
      fullJitter(3, bounds, () => 0.999999),
      3999,
    );
    assert.equal(
      fullJitter(40, bounds, () => 0.999999),
      29999,
    );
    // Spread: 1000 draws from Math.random cover the window, not one point.
    const draws = Array.from({ length: 1000 }, () => fullJitter(4, bounds, Math.random));
    assert.ok(Math.min(...draws) >= 0 && Math.max(...draws) < 8000);
    assert.ok(Math.min(...draws) < 800 && Math.max(...draws) > 7200, 'uses the whole window');
  });

  it('parses the retry-after-ms hint out of a close reason', () => {
    assert.deepEqual(parseCloseReason('server going away; retry-after-ms=1234'), { reason: 'server going away', retryAfterMs: 1234 });
    assert.deepEqual(parseCloseReason('auth service unavailable'), { reason: 'auth service unavailable' });
    assert.equal(parseCloseReason('x; retry-after-ms=99999999999').retryAfterMs, undefined, 'absurdly long: not a hint');
    assert.equal(parseCloseReason('x; retry-after-ms=9999999999').retryAfterMs, 600_000, 'capped at 10 min');
  });

  it('uses the server table for retry classes and meanings', () => {
    assert.equal(retryClassOf(4401), 'reconnect');
    assert.equal(retryClassOf(1013), 'reconnect-with-backoff');
    assert.equal(retryClassOf(4503), 'do-not-retry');
    assert.equal(retryClassOf(4999), 'do-not-retry');
    assert.equal(retryClassOf(1006), 'reconnect-with-backoff');
    for (const info of Object.values(CloseCodes)) {
      const d = describeCloseCode(info.code);
      assert.equal(d.name, info.reason);
      assert.equal(d.retry, info.retry);
      assert.ok(d.meaning.length > 10);
    }
    assert.match(describeCloseCode(4409).meaning, /logged out/);
  });

  it('waits grow as min·2^n (capped) while the server stays away, with full jitter', async () => {
    const h = harness({ random: () => 0.999, connectTimeoutMs: 1_000_000 });
    const planned: (number | null)[] = [];
    h.client.on('close', (c) => planned.push(c.reconnectInMs));
    await settle();
    const waited: number[] = [];
    for (let i = 0; i < 8; i++) {
      FakeSocket.last.drop();
      waited.push(await delayUntilNextSocket(h, 10));
    }
    // random 0.999 → just under each ceiling (500, 1000, 2000, … capped at 30 000).
    assert.deepEqual(planned, [499, 999, 1998, 3996, 7992, 15984, 29970, 29970]);
    // …and the next socket really comes that much later (to the 10 ms step of the fake clock).
    assert.deepEqual(waited, [500, 1000, 2000, 4000, 8000, 15990, 29970, 29970]);
    h.client.close();
  });

  it('resets the backoff after a successful connection', async () => {
    const h = harness({ random: () => 0.999 });
    await settle();
    for (let i = 0; i < 4; i++) {
      FakeSocket.last.drop();
      await delayUntilNextSocket(h);
    }
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.authOk();
    FakeSocket.last.drop();
    assert.equal(await delayUntilNextSocket(h), 500);
    h.client.close();
  });
});

describe('retry classes', () => {
  it('4401: reconnects at once with a fresh ticket; repeated 4401s back off', async () => {
    const h = harness({ random: () => 0.999 });
    const first = await h.authenticate();
    const closes: (number | null)[] = [];
    h.client.on('close', (c) => closes.push(c.reconnectInMs));
    first.serverClose(4401, 'ticket rejected');
    await settle();
    await h.clock.advance(0);
    assert.equal(FakeSocket.instances.length, 2, 'immediately');
    assert.equal(FakeSocket.last.frames.length, 0);
    FakeSocket.last.open();
    assert.equal(FakeSocket.last.frames[0]!.ticket, h.tickets.issued[1]);
    FakeSocket.last.serverClose(4401, 'ticket rejected');
    assert.equal(await delayUntilNextSocket(h), 500, 'second failure in a row: backoff');
    assert.deepEqual(closes, [0, 499]);
    h.client.close();
  });

  it('1013 with a retry-after-ms hint: waits exactly the hint', async () => {
    const h = harness();
    const socket = await h.authenticate();
    socket.serverClose(1013, 'auth service unavailable; retry-after-ms=2500');
    assert.equal(h.client.lastClose?.retryAfterMs, 2500);
    assert.equal(h.client.lastClose?.reason, 'auth service unavailable');
    await h.clock.advance(2_499);
    assert.equal(FakeSocket.instances.length, 1, 'not before the hint');
    await h.clock.advance(1);
    assert.equal(FakeSocket.instances.length, 2, 'at the hint');
    h.client.close();
  });

  it('1001 shutdown with a hint honours it too', async () => {
    const h = harness();
    (await h.authenticate()).serverClose(1001, 'server going away; retry-after-ms=4321');
    assert.equal(await delayUntilNextSocket(h, 1), 4321);
    h.client.close();
  });

  it('4503 (do-not-retry): closed, no further attempt', async () => {
    const h = harness();
    const closes: unknown[] = [];
    h.client.on('close', (c) => closes.push([c.code, c.retry, c.reconnectInMs]));
    (await h.authenticate()).serverClose(4503, 'closed by administrator');
    assert.equal(h.client.state, 'closed');
    assert.equal(h.client.closedBecause?.code, 'closed');
    await h.clock.advance(600_000);
    assert.equal(FakeSocket.instances.length, 1);
    assert.deepEqual(closes, [[4503, 'do-not-retry', null]]);
  });

  it('any 4500–4999 code is terminal, even one not in the table', async () => {
    const h = harness();
    (await h.authenticate()).serverClose(4777, 'custom');
    assert.equal(h.client.state, 'closed');
  });

  it('stops when getTicket fails with status 401 (logged out)', async () => {
    const h = harness();
    const socket = await h.authenticate();
    h.tickets.failWith(Object.assign(new Error('HTTP 401 from /auth/ticket'), { status: 401 }));
    socket.serverClose(4409, 'session revoked');
    await h.clock.advance(0);
    assert.equal(h.client.state, 'closed');
    assert.equal(h.client.closedBecause?.code, 'logged_out');
    assert.equal(h.client.lastClose?.code, 4409, 'the close that led here is still known');
    assert.equal(h.errors.at(-1)?.message, 'getTicket reported that the user is logged out (401)');
    await h.clock.advance(600_000);
    assert.equal(FakeSocket.instances.length, 1);
  });

  it('other getTicket failures back off (and honour retryAfterMs), then recover', async () => {
    const h = harness({ random: () => 0.999 });
    h.tickets.failWith(new TypeError('fetch failed'), Object.assign(new Error('429'), { status: 429, retryAfterMs: 3_000 }));
    await settle();
    assert.equal(FakeSocket.instances.length, 0);
    assert.equal(h.client.state, 'reconnecting');
    await h.clock.advance(499); // first failure: full jitter in [0, 500) → 499 with random 0.999
    assert.equal(h.client.state, 'reconnecting', 'second getTicket failed with a 429');
    await h.clock.advance(2_999);
    assert.equal(FakeSocket.instances.length, 0);
    await h.clock.advance(1);
    assert.equal(FakeSocket.instances.length, 1, 'after the 429 hint');
    assert.deepEqual(
      h.errors.map((e) => (e as { code?: string }).code),
      ['ticket_failed', 'ticket_failed'],
    );
    h.client.close();
  });

  it('gives up on an attempt that is not authenticated within connectTimeoutMs and backs off', async () => {
    const h = harness({ connectTimeoutMs: 5_000 });
    await settle();
    const stuck = FakeSocket.last;
    stuck.open(); // the server never answers auth.ok
    await h.clock.advance(5_000);
    assert.ok(stuck.closedByClient, 'the stuck socket was closed');
    assert.equal(h.client.state, 'reconnecting');
    assert.equal(await delayUntilNextSocket(h, 1), 250);
    h.client.close();
  });

  it('ignores events from an abandoned socket', async () => {
    const h = harness({ connectTimeoutMs: 5_000 });
    await settle();
    const stuck = FakeSocket.last;
    await h.clock.advance(5_000);
    await delayUntilNextSocket(h, 1);
    stuck.open();
    stuck.authOk();
    assert.equal(h.client.state, 'connecting');
    h.client.close();
  });

  it('leaks no ticket into any error or log line', () => assertNoLeaks(leakCheckMaterial()));
});
