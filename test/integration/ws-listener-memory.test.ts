/**
 * What an open socket keeps on Node: once open, its ws WebSocket carries only the adapter's shared
 * listeners (the heartbeat's close listener also ends the receiver), not node-server's per-socket
 * closures, which would keep its events, a WSContext with a URL and the upgrade's context for the
 * socket's life (about 2 KiB of heap per idle socket). Frames and the close still reach the
 * receiver through those listeners.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { WebSocket } from 'ws';
import { listenWithWs, wsSocketRuntime } from '../../src/runtime/ws-listener.ts';
import type { Listening } from '../../src/server/platform.ts';
import type { SocketPort } from '../../src/core/socket-port.ts';
import type { Frame } from '../../src/protocol/messages.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('node: an open socket keeps no node-server closures', () => {
  let listening: Listening;
  const frames: Frame[] = [];
  const closes: number[] = [];
  let raw: WebSocket | undefined;
  let client: WebSocket | undefined;

  before(async () => {
    const app = new Hono();
    app.get(
      '/ws',
      wsSocketRuntime.upgrade(() => ({
        opened(port: SocketPort) {
          raw = (port as unknown as { raw: WebSocket }).raw;
          return { receive: (frame) => frames.push(frame), peerClosed: (code) => closes.push(code) };
        },
        abandoned() {},
      })),
    );
    listening = await listenWithWs(app, {
      port: 0,
      host: '127.0.0.1',
      maxPayloadBytes: 1024,
      maxBufferedBytes: 1 << 20,
      heartbeat: { intervalMs: 30_000, timeoutMs: 10_000 },
    });
  });
  after(() => {
    client?.terminate(); // a failed assertion leaves it open
    raw?.terminate();
    return listening.close();
  });

  it('has one message, one close and one error listener, and they deliver', async () => {
    const socket = (client = new WebSocket(`ws://127.0.0.1:${listening.port}/ws`));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    await tick();
    assert.ok(raw !== undefined, 'the session was opened');
    assert.deepEqual(
      { message: raw.listenerCount('message'), close: raw.listenerCount('close'), error: raw.listenerCount('error') },
      { message: 1, close: 1, error: 1 },
    );
    socket.send('hello');
    await tick();
    assert.deepEqual(frames, [{ kind: 'text', data: 'hello', bytes: 5 }]);
    socket.close(4000, 'bye');
    await new Promise((resolve) => socket.once('close', resolve));
    await tick();
    assert.deepEqual(closes, [4000]);
  });
});
