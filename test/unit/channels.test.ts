import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../src/auth/verifier.ts';
import { isAllowed, isValidChannel, matches } from '../../src/channels/index.ts';

describe('channel names and permission patterns', () => {
  it('accepts bounded printable names only', () => {
    for (const ok of ['chat:lobby', 'user:alice', 'a', 'x'.repeat(128), 'room-1.eu@v2']) assert.ok(isValidChannel(ok), ok);
    for (const bad of ['', 'x'.repeat(129), 'chat lobby', 'chat/*', '$hws.control', 'ümlaut', 42, null])
      assert.ok(!isValidChannel(bad), String(bad));
  });

  it('matches * as any run and nothing else', () => {
    assert.ok(matches('chat:*', 'chat:lobby'));
    assert.ok(matches('chat:*', 'chat:'));
    assert.ok(!matches('chat:*', 'chatroom'));
    assert.ok(matches('*', 'anything:at:all'));
    assert.ok(matches('a*b*c', 'a-x-b-y-c'));
    assert.ok(!matches('a*b*c', 'a-x-b-y-d'));
    assert.ok(!matches('user:alice', 'user:alice2'));
    // A pathological pattern stays linear-ish (no regex backtracking).
    assert.ok(!matches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(128)));
  });

  it('substitutes {sub} and requires the claim', () => {
    const alice: Identity = { sub: 'alice', exp: 0, claims: { subscribe: ['chat:*', 'user:{sub}'], publish: ['chat:*'] } };
    assert.ok(isAllowed(alice, 'subscribe', 'user:alice'));
    assert.ok(!isAllowed(alice, 'subscribe', 'user:bob'));
    assert.ok(isAllowed(alice, 'publish', 'chat:lobby'));
    assert.ok(!isAllowed(alice, 'publish', 'user:alice'));
    const nobody: Identity = { sub: 'x', exp: 0, claims: {} };
    assert.ok(!isAllowed(nobody, 'subscribe', 'chat:lobby'));
    const malformed: Identity = { sub: 'x', exp: 0, claims: { subscribe: 'chat:*' } };
    assert.ok(!isAllowed(malformed, 'subscribe', 'chat:lobby'));
  });
});
