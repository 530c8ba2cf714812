/** The `ws` port's corking (src/runtime/ws-socket-port.ts), against a recording fake socket: what is written when. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { WsSocketPort, type ResettingWebSocket } from '../../src/runtime/ws-socket-port.ts';

/** A `ws` socket and its connection that record cork, uncork, send, close and terminate in order. */
function fake() {
  const calls: string[] = [];
  const tcp = {
    corked: 0,
    writableLength: 0,
    cork() {
      this.corked++;
      calls.push('cork');
    },
    uncork() {
      this.corked--;
      calls.push('uncork');
      if (this.corked === 0) this.writableLength = 0; // flushed to the kernel
    },
  };
  const raw = {
    readyState: WebSocket.OPEN,
    tcp,
    send(text: string) {
      tcp.writableLength += text.length;
      calls.push(`send ${text.length}`);
    },
    close(code: number) {
      calls.push(`close ${code}`);
    },
    terminate() {
      calls.push('terminate');
    },
  };
  return { calls, tcp, port: new WsSocketPort(raw as unknown as ResettingWebSocket) };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('WsSocketPort corks the sends of one tick', () => {
  it('the first send corks, later sends of the tick join it, one uncork after the tick', async () => {
    const { calls, port } = fake();
    port.send('a');
    port.send('bb');
    port.send('ccc');
    assert.deepEqual(calls, ['cork', 'send 1', 'send 2', 'send 3']);
    await nextTick();
    assert.deepEqual(calls.slice(4), ['uncork']);
    port.send('d');
    assert.deepEqual(calls.slice(5), ['cork', 'send 1'], 'the next tick corks again');
    await nextTick();
  });

  it('past 16 KiB corked, it is written at once: bufferedAmount is the real backlog when the cap is checked', async () => {
    const { calls, tcp, port } = fake();
    port.send('x'.repeat(10_000));
    assert.equal(tcp.corked, 1);
    port.send('y'.repeat(10_000));
    assert.deepEqual(calls, ['cork', 'send 10000', 'send 10000', 'uncork']);
    assert.equal(tcp.corked, 0);
    await nextTick();
    assert.equal(calls.filter((c) => c === 'uncork').length, 1, 'the tick does not uncork twice');
  });

  it('a close or a terminate writes what is corked first', async () => {
    const closing = fake();
    closing.port.send('a');
    closing.port.close(4413, 'slow');
    assert.deepEqual(closing.calls, ['cork', 'send 1', 'uncork', 'close 4413']);
    const terminating = fake();
    terminating.port.send('a');
    terminating.port.terminate();
    assert.deepEqual(terminating.calls, ['cork', 'send 1', 'uncork', 'terminate']);
    await nextTick();
    assert.equal(terminating.tcp.corked, 0);
  });

  it('a socket that is not open is not corked', () => {
    const { calls, port } = fake();
    (port.raw as unknown as { readyState: number }).readyState = WebSocket.CLOSING;
    port.send('a');
    assert.deepEqual(calls, ['send 1']);
  });
});
