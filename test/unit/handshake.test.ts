import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isValidSubprotocolList } from '../../src/core/handshake.ts';

it('accepts comma-separated RFC 7230 tokens, with spaces or tabs around the commas', () => {
  for (const value of ['chat', 'chat,superchat', 'chat, superchat', 'chat ,\tsuper.chat', "v1.json!#$%&'*+-.^_`|~"]) {
    assert.equal(isValidSubprotocolList(value), true, value);
  }
});

it('refuses empty elements, separators, quotes, non-ASCII, whitespace inside a token and duplicates', () => {
  for (const value of [
    '',
    ' ',
    'chat,',
    ',chat',
    'chat,,superchat',
    'chat room',
    'chat;v=1',
    '"chat"',
    'ch\u00e4t',
    'chat/1',
    'chat, chat',
    'a\u000bb',
  ]) {
    assert.equal(isValidSubprotocolList(value), false, JSON.stringify(value));
  }
});
