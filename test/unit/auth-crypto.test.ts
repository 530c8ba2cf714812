import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { randomToken, safeEqual, sha256, toBase64Url } from '../../src/auth-service/crypto.ts';
import { nodeSha256 } from '../../src/runtime/node-sha256.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const webDigest = async (bytes: Uint8Array<ArrayBuffer>) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

describe('sha256 (synchronous)', () => {
  it('matches the FIPS 180-4 examples', () => {
    assert.equal(hex(sha256('')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(hex(sha256('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(
      hex(sha256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('matches WebCrypto for every length across the padding boundaries and several blocks', async () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      assert.equal(hex(sha256(bytes)), hex(await webDigest(bytes)), `length ${length}`);
    }
    const big = crypto.getRandomValues(new Uint8Array(65_536));
    assert.equal(hex(sha256(big)), hex(await webDigest(big)));
  });

  it('hashes a string as UTF-8: ASCII of every length, and non-ASCII anywhere in it', async () => {
    for (let length = 0; length <= 130; length++) {
      const text = Array.from(crypto.getRandomValues(new Uint8Array(length)), (byte) => String.fromCharCode(byte & 0x7f)).join('');
      assert.equal(hex(sha256(text)), hex(await webDigest(new TextEncoder().encode(text))), `ASCII length ${length}`);
    }
    for (const text of ['ünïcödé ✓ 𝄞 token', `${'a'.repeat(60)}é`, `é${'a'.repeat(60)}`, '\u0080', '\ud800 lone surrogate']) {
      assert.equal(hex(sha256(text)), hex(await webDigest(new TextEncoder().encode(text))), text);
    }
  });

  it('does not modify its input', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    sha256(bytes);
    assert.deepEqual([...bytes], [1, 2, 3]);
  });
});

describe('toBase64Url', () => {
  it('is base64url without padding for every length and byte value', () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      assert.equal(toBase64Url(bytes), Buffer.from(bytes).toString('base64url'), `length ${length}`);
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.equal(toBase64Url(all), Buffer.from(all).toString('base64url'));
  });

  it('randomToken: 43 characters (256 bits), all different', () => {
    const tokens = new Set(Array.from({ length: 1000 }, randomToken));
    assert.equal(tokens.size, 1000);
    for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  });
});

describe('safeEqual', () => {
  it('is true only for equal strings, whatever their lengths', () => {
    assert.equal(safeEqual('secret-value', 'secret-value'), true);
    assert.equal(safeEqual('secret-value', 'secret-valuf'), false);
    assert.equal(safeEqual('secret-value', 'secret-value '), false);
    assert.equal(safeEqual('', ''), true);
    assert.equal(safeEqual('', 'x'), false);
    assert.equal(safeEqual('a'.repeat(1000), 'a'.repeat(1000)), true);
    assert.equal(safeEqual('a'.repeat(1000), `${'a'.repeat(999)}b`), false);
  });
});

describe("the runtimes' native SHA-256 (Platform.sha256) agrees with the JS hash", () => {
  // Session tokens, and the padding boundaries around one and two blocks, as strings, UTF-8 and bytes.
  const inputs = ['', 'abc', randomToken(), 'ünïcödé ✓ 𝄞', ...[55, 56, 63, 64, 65, 119, 120, 200].map((n) => 'x'.repeat(n))];

  it('Node: crypto.hash', () => {
    for (const text of inputs) {
      assert.equal(hex(nodeSha256(text)), hex(sha256(text)), text);
      const bytes = new TextEncoder().encode(text);
      assert.equal(hex(nodeSha256(bytes)), hex(sha256(bytes)), `bytes of ${text}`);
    }
  });

  it('Bun: Bun.SHA256.hash, as src/runtime/bun.ts calls it', () => {
    const script = `const inputs = ${JSON.stringify(inputs)};
      const hex = (b) => Buffer.from(b).toString('hex');
      console.log(JSON.stringify(inputs.map((t) => [hex(Bun.SHA256.hash(t)), hex(Bun.SHA256.hash(new TextEncoder().encode(t))), Bun.SHA256.hash(t) instanceof Uint8Array])));`;
    const results = JSON.parse(execFileSync('node_modules/.bin/bun', ['-e', script], { encoding: 'utf8' })) as [string, string, boolean][];
    inputs.forEach((text, i) => assert.deepEqual(results[i], [hex(sha256(text)), hex(sha256(text)), true], text));
  });
});
