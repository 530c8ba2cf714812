/** The library's channelHandlers defaults and its namespace table: safe and simple, every mistake refused at start. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelHandlers, namespaceTable, type NamespaceSettings } from '../../src/library/channels.ts';
import { fakeConnection, msg, settle } from './channel-support.ts';

describe('library channels', () => {
  it('by default every channel is live only: no positions, no history, no presence', async () => {
    const h = channelHandlers();
    const c = fakeConnection('alice');
    await h.subscribe!(msg({ type: 'subscribe', id: 1, channel: 'chat:x' }), c.ctx);
    await h.publish!(msg({ type: 'publish', id: 2, channel: 'chat:x', data: 1 }), c.ctx);
    await h.history!(msg({ type: 'history', id: 3, channel: 'chat:x' }), c.ctx);
    await h.presence!(msg({ type: 'presence', id: 4, channel: 'chat:x' }), c.ctx);
    await settle();
    assert.deepEqual(
      c.sent.filter((m) => m.type !== 'message'),
      [
        { type: 'ok', id: 1 },
        { type: 'ok', id: 2 },
        { type: 'error', id: 3, code: 'history_disabled' },
        { type: 'error', id: 4, code: 'presence_disabled' },
      ],
    );
    assert.deepEqual(c.of(), [{ type: 'message', channel: 'chat:x', data: 1, from: 'alice' }]);
  });

  it('a namespace table gets its defaults filled in; bad values throw', () => {
    const table = namespaceTable({ chat: { historySize: 50, recovery: true }, __proto__x: {} });
    assert.deepEqual(table.optionsFor('chat:1'), {
      historySize: 50,
      historyTtl: 300_000,
      historyMetaTtl: 86_400_000,
      recovery: true,
      presence: false,
      joinLeave: false,
      proxy: 'off',
    });
    assert.equal(namespaceTable(JSON.parse('{"__proto__":{"historySize":3}}')).historyFor('__proto__:a')?.size, 3);
    const bads: Record<string, NamespaceSettings>[] = [
      { 'a b': {} },
      { chat: { historySize: -1 } },
      { chat: { historySize: 10_001 } },
      { chat: { historySize: 1.5 } },
      { chat: { historyTtl: 10 } },
      { chat: { historySize: 5, historyTtl: 60_000, historyMetaTtl: 1000 } },
      { chat: { recovery: true } },
    ];
    for (const bad of bads) assert.throws(() => namespaceTable(bad), RangeError, JSON.stringify(bad));
  });
});
