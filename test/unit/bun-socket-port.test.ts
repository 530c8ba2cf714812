import assert from 'node:assert/strict';
import { beforeEach, afterEach, it, mock } from 'node:test';
import { BunSocketPort } from '../../src/runtime/bun-socket-port.ts';

/** A stand-in for Bun's ServerWebSocket: close() ends it at once, after which terminate() does nothing (as in Bun 1.4.5). */
class FakeBunSocket {
  readyState = 1;
  buffered = 0;
  readonly calls: string[] = [];
  getBufferedAmount = () => this.buffered;
  send = () => -1;
  close = (code: number) => {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.calls.push(`close ${code}`);
  };
  terminate = () => {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.calls.push('terminate');
  };
}

const portFor = (raw: FakeBunSocket) => new BunSocketPort(raw);

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
afterEach(() => mock.timers.reset());

it('Bun: a close with nothing queued goes out at once', () => {
  const raw = new FakeBunSocket();
  portFor(raw).close(4409, 'logged out');
  assert.deepEqual(raw.calls, ['close 4409']);
});

it('Bun: a close waits for queued data to go out, then closes with its code', () => {
  const raw = new FakeBunSocket();
  raw.buffered = 500_000;
  portFor(raw).close(4413, 'slow consumer');
  mock.timers.tick(200);
  assert.deepEqual(raw.calls, [], 'held back while data is queued');
  raw.buffered = 0;
  mock.timers.tick(100);
  assert.deepEqual(raw.calls, ['close 4413']);
});

it('Bun: while a close is held back, terminate() still drops the connection (the slow-consumer path)', () => {
  const raw = new FakeBunSocket();
  raw.buffered = 500_000;
  const port = portFor(raw);
  port.close(4413, 'slow consumer');
  mock.timers.tick(1_000);
  port.terminate();
  assert.deepEqual(raw.calls, ['terminate']);
  mock.timers.tick(10_000);
  assert.deepEqual(raw.calls, ['terminate'], 'nothing after the drop');
});

it('Bun: a reader that never catches up is dropped when the flush limit passes', () => {
  const raw = new FakeBunSocket();
  raw.buffered = 500_000;
  portFor(raw).close(1001, 'going away');
  mock.timers.tick(60_000);
  assert.deepEqual(raw.calls, ['terminate']);
});

it('Bun: a second close while one is held back changes nothing', () => {
  const raw = new FakeBunSocket();
  raw.buffered = 10;
  const port = portFor(raw);
  port.close(4413, 'slow consumer');
  port.close(1001, 'going away');
  raw.buffered = 0;
  mock.timers.tick(100);
  assert.deepEqual(raw.calls, ['close 4413']);
});
