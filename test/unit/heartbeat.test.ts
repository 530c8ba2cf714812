import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Heartbeat, type Pingable } from '../../src/runtime/heartbeat.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A socket as the heartbeat uses it: pings are counted, a live one answers each with a pong. */
class FakeSocket implements Pingable {
  pings: number[] = [];
  terminated = false;
  constructor(
    readonly heartbeat: Heartbeat<FakeSocket>,
    readonly answers: boolean,
  ) {}
  ping(): void {
    this.pings.push(Date.now());
    if (this.answers) queueMicrotask(() => this.heartbeat.answered(this));
  }
  terminate(): void {
    this.terminated = true;
    queueMicrotask(() => this.heartbeat.remove(this));
  }
}

function start(intervalMs: number, timeoutMs: number) {
  const heartbeat = new Heartbeat<FakeSocket>({ intervalMs, timeoutMs });
  const connect = (answers: boolean) => {
    const ws = new FakeSocket(heartbeat, answers);
    heartbeat.add(ws);
    return ws;
  };
  return { connect, stop: () => heartbeat.stop(), heartbeat };
}

describe('Heartbeat (Node and Bun)', () => {
  it('pings after the interval, keeps a socket that answers, terminates one that does not after the timeout', async () => {
    const hb = start(300, 300);
    const live = hb.connect(true);
    const dead = hb.connect(false);
    await sleep(200);
    assert.deepEqual([live.pings.length, dead.pings.length], [0, 0], 'no ping before the interval');
    await sleep(250);
    assert.equal(dead.pings.length, 1);
    assert.equal(dead.terminated, false, 'not before the timeout');
    await sleep(450);
    assert.equal(dead.terminated, true);
    assert.equal(dead.pings.length, 1, 'one unanswered ping, then terminated');
    assert.equal(live.terminated, false);
    assert.ok(live.pings.length >= 2, `the live socket is pinged again after each answer (${live.pings.length})`);
    hb.stop();
  });

  it('spreads the pings of many sockets that connected together over several ticks', async () => {
    const hb = start(1_000, 1_000);
    const sockets = Array.from({ length: 5_000 }, () => hb.connect(true));
    await sleep(1_800);
    assert.equal(sockets.filter((ws) => ws.pings.length > 0).length, 5_000, 'all pinged within a few ticks');
    // Pings of one tick are sent in one synchronous loop; ticks are 10 ms apart.
    const times = sockets.map((ws) => ws.pings[0]!).sort((a, b) => a - b);
    const bursts: number[] = [1];
    for (let i = 1; i < times.length; i++) {
      if (times[i]! - times[i - 1]! > 4) bursts.push(1);
      else bursts[bursts.length - 1]!++;
    }
    assert.ok(bursts.length >= 5 && Math.max(...bursts) <= 500, `bursts of pings: ${bursts.join(', ')}`);
    assert.equal(sockets.filter((ws) => ws.terminated).length, 0);
    hb.stop();
  });

  it('forgets closed sockets: a socket that closed is never pinged', async () => {
    const hb = start(200, 200);
    const ws = hb.connect(false);
    hb.heartbeat.remove(ws);
    await sleep(350);
    assert.deepEqual(ws.pings, []);
    hb.stop();
  });

  it('a socket closed from the middle of the lists leaves the others in them, in order', async () => {
    const hb = start(200, 200);
    const [first, middle, last] = [hb.connect(true), hb.connect(false), hb.connect(false)];
    hb.heartbeat.remove(middle); // unlinked between two idle sockets
    await sleep(300); // all pinged; `last` now waits for its pong
    hb.heartbeat.remove(last); // unlinked from the tail of the awaiting list
    await sleep(350);
    assert.deepEqual(middle.pings, []);
    assert.equal(last.pings.length, 1);
    assert.equal(last.terminated, false, 'removed before its timeout: not terminated');
    assert.ok(first.pings.length >= 2, `the answering socket is still pinged (${first.pings.length})`);
    hb.stop();
  });

  it('a pong that arrives after the close does not bring the socket back', async () => {
    const hb = start(200, 200);
    const ws = hb.connect(false);
    hb.heartbeat.remove(ws);
    hb.heartbeat.answered(ws);
    await sleep(350);
    assert.deepEqual(ws.pings, []);
    hb.stop();
  });
});
