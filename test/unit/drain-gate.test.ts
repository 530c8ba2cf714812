import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { drainGate } from '../../src/server/drain-gate.ts';

function app(draining: { on: boolean }) {
  const a = new Hono();
  a.use(drainGate(() => draining.on, ['/ws', '/auth/login', '/auth/ticket']));
  a.all('*', (c) => c.text('passed'));
  return a;
}

describe('drainGate', () => {
  it('passes everything through while not draining', async () => {
    const a = app({ on: false });
    for (const path of ['/ws', '/auth/login', '/auth/ticket', '/readyz'])
      assert.equal(await (await a.request(path, { method: 'POST' })).text(), 'passed');
  });

  it('while draining: the gated paths get 503 draining with Retry-After 1–5 s and Connection: close; others pass', async () => {
    const a = app({ on: true });
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      for (const [method, path] of [
        ['GET', '/ws'],
        ['POST', '/auth/login'],
        ['POST', '/auth/ticket'],
      ] as const) {
        const res = await a.request(path, { method, headers: { upgrade: 'websocket' } });
        assert.equal(res.status, 503);
        assert.deepEqual(await res.json(), { error: 'draining' });
        assert.match(res.headers.get('retry-after') ?? '', /^[1-5]$/);
        assert.equal(res.headers.get('connection'), 'close');
        seen.add(res.headers.get('retry-after')!);
      }
    }
    assert.deepEqual([...seen].sort(), ['1', '2', '3', '4', '5'], 'spread over the whole window');
    for (const path of ['/healthz', '/readyz', '/auth/logout', '/', '/ws/other'])
      assert.equal(await (await a.request(path)).text(), 'passed', path);
  });
});
