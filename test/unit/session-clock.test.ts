import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionClock, type SessionClockWatcher } from '../../src/core/session-clock.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function watcher(): SessionClockWatcher & { ticks: number[] } {
  const ticks: number[] = [];
  return { ticks, sessionTick: (now) => void ticks.push(now) };
}

describe('SessionClock', () => {
  it('ticks each watcher once its second has come, not before', async () => {
    const clock = new SessionClock(Date.now);
    const second = Math.ceil(Date.now() / 1000) + 1;
    const a = watcher();
    const b = watcher();
    clock.add(second, a);
    clock.add(second, b);
    assert.equal(clock.size, 2);
    await sleep(second * 1000 - Date.now() - 150);
    assert.deepEqual([a.ticks, b.ticks], [[], []], 'nothing before the second');
    await sleep(300);
    assert.equal(a.ticks.length, 1);
    assert.equal(b.ticks.length, 1);
    assert.ok(a.ticks[0]! >= second * 1000);
    assert.equal(clock.size, 0, 'fired buckets are gone');
  });

  it('a second in the past ticks at once; a deleted watcher never ticks', async () => {
    const clock = new SessionClock(Date.now);
    const past = Math.floor(Date.now() / 1000) - 5;
    const due = watcher();
    const gone = watcher();
    clock.add(past, due);
    clock.add(past, gone);
    clock.delete(past, gone);
    await sleep(20);
    assert.equal(due.ticks.length, 1);
    assert.deepEqual(gone.ticks, []);
  });

  it('deleting watchers from anywhere in a bucket keeps the rest (and a stale delete is ignored)', async () => {
    const clock = new SessionClock(Date.now);
    const past = Math.floor(Date.now() / 1000) - 5;
    const later = past + 3600;
    const [a, b, c, d] = [watcher(), watcher(), watcher(), watcher()];
    for (const w of [a, b, c, d]) clock.add(past, w);
    clock.delete(past, b); // from the middle: the last one takes its place
    clock.delete(past, d); // the last one
    clock.delete(later, a); // a second `a` is not waiting for: nothing happens
    clock.delete(past, b); // twice: nothing happens
    assert.equal(clock.size, 2);
    await sleep(20);
    assert.deepEqual(
      [a, b, c, d].map((w) => w.ticks.length),
      [1, 0, 1, 0],
    );
    assert.equal(clock.size, 0);
  });

  it('an earlier second added later re-aims the timer; the later one still fires after', async () => {
    const clock = new SessionClock(Date.now);
    const now = Math.floor(Date.now() / 1000);
    const late = watcher();
    const early = watcher();
    clock.add(now + 2, late);
    clock.add(now - 1, early);
    await sleep(20);
    assert.equal(early.ticks.length, 1, 'the earlier bucket did not wait for the later one');
    assert.deepEqual(late.ticks, []);
    await sleep((now + 2) * 1000 - Date.now() + 100);
    assert.equal(late.ticks.length, 1);
  });

  it('a watcher that throws does not stop the others; one that re-adds itself during a tick is kept', async () => {
    const clock = new SessionClock(Date.now);
    const past = Math.floor(Date.now() / 1000) - 1;
    const next = Math.floor(Date.now() / 1000) + 60;
    const after = watcher();
    const readding: SessionClockWatcher = { sessionTick: () => clock.add(next, readding) };
    clock.add(past, {
      sessionTick: () => {
        throw new Error('boom');
      },
    });
    clock.add(past, readding);
    clock.add(past, after);
    await sleep(20);
    assert.equal(after.ticks.length, 1);
    assert.equal(clock.size, 1, 'the re-added watcher waits for its new second');
    clock.delete(next, readding);
    assert.equal(clock.size, 0);
  });

  it('holds no timer once every watcher is deleted (the process may exit)', () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const clock = new SessionClock(Date.now);
    const w = watcher();
    const hour = Math.floor(Date.now() / 1000) + 3600;
    clock.add(hour, w);
    assert.equal(timers(), before + 1);
    clock.delete(hour, w);
    assert.equal(timers(), before, 'a timer left armed would keep the process alive for an hour');
  });
});
