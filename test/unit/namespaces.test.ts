/** Channel namespaces: a channel's options come from the part of its name before the first `:`. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChannelNamespaces, NO_FEATURES, namespaceOf } from '../../src/channels/namespaces.ts';
import { MAX_HISTORY_SIZE as PORT_MAX_HISTORY } from '../../src/channels/stream.ts';
import { defaultNamespaces } from '../../src/config/index.ts';
import { MAX_HISTORY_SIZE as CONFIG_MAX_HISTORY } from '../../src/config/namespaces.ts';

describe('namespaces', () => {
  it('the namespace is the part before the first colon; none without one', () => {
    assert.equal(namespaceOf('chat:room1'), 'chat');
    assert.equal(namespaceOf('chat:room:1'), 'chat');
    assert.equal(namespaceOf(':x'), '');
    assert.equal(namespaceOf('lobby'), null);
  });

  it('the built-in table: chat keeps 100 publications for 5 minutes, with recovery and presence; others are live only', () => {
    const namespaces = new ChannelNamespaces(defaultNamespaces);
    assert.deepEqual(namespaces.historyFor('chat:room1'), { size: 100, ttlMs: 300_000, metaTtlMs: 86_400_000 });
    assert.deepEqual(namespaces.optionsFor('chat:room1'), {
      historySize: 100,
      historyTtl: 300_000,
      historyMetaTtl: 86_400_000,
      recovery: true,
      presence: true,
      joinLeave: true,
      proxy: 'off',
    });
    for (const channel of ['lobby', 'news:1', 'chatroom:1', 'Chat:1', ':chat']) {
      assert.equal(namespaces.optionsFor(channel), NO_FEATURES, channel);
      assert.equal(namespaces.historyFor(channel), null, channel);
    }
  });

  it('a namespace without history has options but no history policy', () => {
    const namespaces = new ChannelNamespaces({ rooms: { ...NO_FEATURES, presence: true } });
    assert.equal(namespaces.optionsFor('rooms:1').presence, true);
    assert.equal(namespaces.historyFor('rooms:1'), null);
  });

  it("channel names that look like Object's members find nothing", () => {
    const namespaces = new ChannelNamespaces(defaultNamespaces);
    for (const channel of ['__proto__:x', 'constructor:x', 'toString:x', 'hasOwnProperty:x']) {
      assert.equal(namespaces.optionsFor(channel), NO_FEATURES, channel);
      assert.equal(namespaces.historyFor(channel), null, channel);
    }
    const own = new ChannelNamespaces(
      JSON.parse(
        '{"__proto__": {"historySize": 5, "historyTtl": 1000, "historyMetaTtl": 1000, "recovery": false, "presence": false, "joinLeave": false, "proxy": "off"}}',
      ) as never,
    );
    assert.deepEqual(own.historyFor('__proto__:x'), { size: 5, ttlMs: 1000, metaTtlMs: 1000 });
  });

  it("the config bound on history-size is the stream port's", () => {
    assert.equal(CONFIG_MAX_HISTORY, PORT_MAX_HISTORY);
  });
});
