import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from '../../src/core/connection.ts';
import { ConnectionRegistry } from '../../src/core/registry.ts';

/** The registry uses nothing of a connection but its registryEntry field. */
const conn = (name: string) => ({ name, registryEntry: undefined }) as unknown as Connection;
const names = (list: Connection[]) => list.map((c) => (c as unknown as { name: string }).name).sort();

describe('ConnectionRegistry', () => {
  it('finds connections by user and login session after others were removed from anywhere', () => {
    const registry = new ConnectionRegistry();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(conn) as [Connection, Connection, Connection, Connection];
    for (const x of [a, b, c, d]) registry.add(x);
    registry.bind(a, 'alice', 's1');
    registry.bind(b, 'alice', 's1');
    registry.bind(c, 'alice', 's2');
    registry.bind(d, 'bob', null);
    assert.equal(registry.remove(b), 'alice'); // from the middle of every array it is in
    assert.deepEqual(names(registry.forUser('alice')), ['a', 'c']);
    assert.deepEqual(names(registry.forSession('s1')), ['a']);
    assert.deepEqual(names(registry.connections()), ['a', 'c', 'd']);
    assert.equal(registry.remove(b), undefined, 'removing twice does nothing');
    assert.equal(registry.size, 3);
    registry.remove(d); // the one that moved into b's place
    assert.deepEqual(names(registry.connections()), ['a', 'c']);
    registry.bind(c, 'carol', null); // bound already: ignored
    registry.remove(c); // moved into b's place in alice's array
    assert.deepEqual(names(registry.forUser('alice')), ['a']);
    assert.equal(registry.users(), 1);
  });

  it('rebind moves a connection to its new login session; unbound or closed ones are not bound', () => {
    const registry = new ConnectionRegistry();
    const [a, b, late] = ['a', 'b', 'late'].map(conn) as [Connection, Connection, Connection];
    registry.add(a);
    registry.add(b);
    registry.bind(a, 'alice', 's1');
    registry.bind(a, 'mallory', 's9'); // bound already: stays alice's
    registry.rebind(a, 's2');
    registry.rebind(b, 's2'); // never bound: not indexed
    registry.bind(late, 'alice', 's1'); // closed before admission finished (never added): not indexed
    assert.deepEqual(registry.forSession('s1'), []);
    assert.deepEqual(names(registry.forSession('s2')), ['a']);
    assert.equal(registry.subOf(a), 'alice');
    assert.equal(registry.subOf(b), undefined);
    registry.remove(a);
    assert.deepEqual(registry.forSession('s2'), []);
    assert.deepEqual(registry.forUser('alice'), []);
    assert.equal(registry.users(), 0, 'no empty index left behind');
  });
});
