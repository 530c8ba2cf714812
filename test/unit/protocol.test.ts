import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, parseAuthMessage, parseMessage, utf8ByteLength as exportedByteLength } from '../../src/protocol/index.ts';
import { countUtf8Bytes } from '../../src/protocol/parse.ts';

const TICKET = 'abcdefghijklmnop'; // 16 chars: the minimum

describe('parseMessage', () => {
  it('accepts an object with a string type and keeps every field', () => {
    assert.deepEqual(parseMessage('{"type":"echo","id":1,"data":{"a":[1,2]}}'), {
      ok: true,
      message: { type: 'echo', id: 1, data: { a: [1, 2] } },
    });
    assert.deepEqual(parseMessage('{"type":"ping"}'), { ok: true, message: { type: 'ping' } });
    assert.deepEqual(parseMessage('{"type":"ping","id":"req-1"}'), { ok: true, message: { type: 'ping', id: 'req-1' } });
    assert.deepEqual(parseMessage('{"type":"ping","id":-1.5}'), { ok: true, message: { type: 'ping', id: -1.5 } });
    assert.deepEqual(parseMessage('  {"type":"ping"}\n'), { ok: true, message: { type: 'ping' } });
  });

  it('type of exactly 64 characters is accepted; 65 is not', () => {
    assert.equal(parseMessage(JSON.stringify({ type: 't'.repeat(64) })).ok, true);
    assert.deepEqual(parseMessage(JSON.stringify({ type: 't'.repeat(65) })), { ok: false, code: 'invalid_message' });
  });

  it('invalid JSON → invalid_json (never throws)', () => {
    for (const text of ['', '{', '{"type":"x",}', "{'type':'x'}", 'undefined', '{"type":"x"}}', '\u0000']) {
      assert.deepEqual(parseMessage(text), { ok: false, code: 'invalid_json' }, JSON.stringify(text));
    }
  });

  it('JSON that is not an object → invalid_message', () => {
    for (const text of ['[]', '[{"type":"x"}]', 'null', '1', '"type"', 'true']) {
      assert.deepEqual(parseMessage(text), { ok: false, code: 'invalid_message' }, text);
    }
  });

  it('missing, empty, non-string or overlong type → invalid_message', () => {
    for (const value of [{}, { type: '' }, { type: 1 }, { type: null }, { type: ['x'] }, { type: { t: 'x' } }, { type: 'x'.repeat(65) }]) {
      assert.deepEqual(parseMessage(JSON.stringify(value)), { ok: false, code: 'invalid_message' }, JSON.stringify(value));
    }
  });

  it('bad id types → invalid_message without an id', () => {
    for (const id of [null, true, {}, [1], 'i'.repeat(129)]) {
      assert.deepEqual(parseMessage(JSON.stringify({ type: 'echo', id })), { ok: false, code: 'invalid_message' }, JSON.stringify(id));
    }
    // 128 characters is still a valid id
    assert.equal(parseMessage(JSON.stringify({ type: 'echo', id: 'i'.repeat(128) })).ok, true);
  });

  it('a readable id is preserved in the error when the type is bad', () => {
    assert.deepEqual(parseMessage('{"id":7}'), { ok: false, code: 'invalid_message', id: 7 });
    assert.deepEqual(parseMessage('{"id":"abc","type":5}'), { ok: false, code: 'invalid_message', id: 'abc' });
    assert.deepEqual(parseMessage(JSON.stringify({ id: 0, type: 'x'.repeat(65) })), { ok: false, code: 'invalid_message', id: 0 });
  });

  it('a __proto__ key stays data and does not pollute prototypes', () => {
    const r = parseMessage('{"type":"echo","__proto__":{"polluted":true}}');
    assert.equal(r.ok, true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('parseAuthMessage', () => {
  it('returns the ticket of a valid auth message', () => {
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket: TICKET })), TICKET);
    const alphabet = 'AZaz09._~+/=-' + 'x'.repeat(10);
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket: alphabet })), alphabet);
    // extra fields and an id do not matter
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', id: 1, ticket: TICKET, v: 2 })), TICKET);
  });

  it('wrong type → null', () => {
    for (const type of ['Auth', 'auth ', 'login', 'auth.ok']) {
      assert.equal(parseAuthMessage(JSON.stringify({ type, ticket: TICKET })), null, type);
    }
  });

  it('non-string or missing ticket → null', () => {
    for (const ticket of [undefined, null, 1234567890123456, true, [TICKET], { ticket: TICKET }]) {
      assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket })), null, JSON.stringify(ticket));
    }
  });

  it('length bounds: 16..2048 characters', () => {
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket: 'a'.repeat(15) })), null);
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket: 'a'.repeat(16) })), 'a'.repeat(16));
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket: 'a'.repeat(2048) })), 'a'.repeat(2048));
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket: 'a'.repeat(2049) })), null);
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket: '' })), null);
  });

  it('bad characters → null', () => {
    for (const bad of [' ', '\n', '"', '<', '>', '%', '&', '\u00e9', '\u{1F600}', '\u0000', '*', ',', ':']) {
      const ticket = `abcdefgh${bad}ijklmnop`;
      assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket })), null, JSON.stringify(bad));
    }
    // a trailing newline must not slip past an end anchor
    assert.equal(parseAuthMessage(JSON.stringify({ type: 'auth', ticket: `${TICKET}\n` })), null);
  });

  it('extra nesting or non-object frames → null', () => {
    for (const text of [
      JSON.stringify({ auth: { type: 'auth', ticket: TICKET } }),
      JSON.stringify({ type: 'auth', ticket: { value: TICKET } }),
      JSON.stringify([{ type: 'auth', ticket: TICKET }]),
      JSON.stringify({ type: { type: 'auth' }, ticket: TICKET }),
      JSON.stringify(TICKET),
      TICKET,
      '{"type":"auth","ticket":',
      'null',
    ]) {
      assert.equal(parseAuthMessage(text), null, text);
    }
  });
});

// Both the native count (Node, Bun) and the loop (Deno, browsers) are checked.
for (const [name, utf8ByteLength] of [
  ['utf8ByteLength', exportedByteLength],
  ['countUtf8Bytes', countUtf8Bytes],
] as const) {
  describe(`${name} matches TextEncoder`, () => {
    const encoder = new TextEncoder();
    const cases: [string, string, number][] = [
      ['empty', '', 0],
      ['ASCII', 'hello, world', 12],
      ['ASCII control + DEL', '\u0000\u007f', 2],
      ['2-byte (é, ß, U+07FF)', '\u00e9\u00df\u07ff', 6],
      ['2-byte lower edge U+0080', '\u0080', 2],
      ['3-byte (€, 中, U+0800, U+FFFF)', '\u20ac\u4e2d\u0800\uffff', 12],
      ['emoji surrogate pair', '\u{1F600}', 4],
      ['U+10000 and U+10FFFF', '\u{10000}\u{10FFFF}', 8],
      ['mixed', 'a\u00e9\u20ac\u{1F600}z', 1 + 2 + 3 + 4 + 1],
      ['lone high surrogate at end', 'ab\ud83d', 5],
      ['lone high surrogate followed by ASCII', '\ud83dx', 4],
      ['lone low surrogate', '\ude00', 3],
      ['low before high (reversed pair)', '\ude00\ud83d', 6],
      ['high + high + low', '\ud83d\ud83d\ude00', 3 + 4],
      ['lone high then pair', '\ud800\u{1F600}', 3 + 4],
    ];
    for (const [label, text, expected] of cases) {
      it(label, () => {
        assert.equal(encoder.encode(text).length, expected, 'fixture sanity');
        assert.equal(utf8ByteLength(text), expected);
      });
    }

    it('agrees with TextEncoder on random strings over all code unit ranges', () => {
      let seed = 42;
      const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      const ranges = [
        [0x00, 0x7f],
        [0x80, 0x7ff],
        [0x800, 0xd7ff],
        [0xd800, 0xdbff],
        [0xdc00, 0xdfff],
        [0xe000, 0xffff],
      ] as const;
      for (let n = 0; n < 500; n++) {
        let s = '';
        const len = Math.floor(rand() * 20);
        for (let i = 0; i < len; i++) {
          const [lo, hi] = ranges[Math.floor(rand() * ranges.length)]!;
          s += String.fromCharCode(lo + Math.floor(rand() * (hi - lo + 1)));
        }
        assert.equal(utf8ByteLength(s), encoder.encode(s).length, JSON.stringify(s));
      }
    });
  });
}

describe('encode', () => {
  it('is JSON; an undefined id is omitted', () => {
    assert.equal(encode({ type: 'auth.ok', sub: 'a', exp: 1 }), '{"type":"auth.ok","sub":"a","exp":1}');
    assert.equal(encode({ type: 'error', id: undefined, code: 'invalid_json' }), '{"type":"error","code":"invalid_json"}');
  });
});
