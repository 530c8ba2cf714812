/** StringSet (the memory per-user counter's set of connection ids) agrees with a Set through growth, deletes and shrinks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StringSet } from '../../src/backends/memory/string-set.ts';

/** A seeded generator, so a failure replays. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('StringSet', () => {
  it('adds once, finds, deletes once', () => {
    const set = new StringSet();
    assert.equal(set.add('a'), true);
    assert.equal(set.add('a'), false);
    assert.equal(set.has('a'), true);
    assert.equal(set.has('b'), false);
    assert.equal(set.size, 1);
    assert.equal(set.delete('b'), false);
    assert.equal(set.delete('a'), true);
    assert.equal(set.delete('a'), false);
    assert.equal(set.size, 0);
    assert.equal(set.has('a'), false);
  });

  for (const keys of [8, 300, 5_000]) {
    it(`matches a Set over 20,000 random adds and deletes of ${keys} keys`, () => {
      const next = random(keys);
      const pool = Array.from({ length: keys }, (_, i) => (i % 3 === 0 ? crypto.randomUUID() : `c${i}`));
      const set = new StringSet();
      const model = new Set<string>();
      for (let step = 0; step < 20_000; step++) {
        const key = pool[Math.floor(next() * keys)]!;
        // Grow for the first half, then mostly delete so that the table shrinks back.
        const adding = step < 10_000 ? next() < 0.7 : next() < 0.2;
        if (adding) assert.equal(set.add(key), !model.has(key), `add ${key} at ${step}`);
        else assert.equal(set.delete(key), model.has(key), `delete ${key} at ${step}`);
        if (adding) model.add(key);
        else model.delete(key);
        assert.equal(set.size, model.size);
      }
      for (const key of pool) assert.equal(set.has(key), model.has(key), key);
    });
  }
});
