/**
 * Open connections, indexed by user and by login session once authenticated: per-user caps,
 * logout revocation and admin kicks look sockets up here. Entries go when the socket closes.
 *
 * Memory: each connection has one small entry (held in its `registryEntry` field) that knows its
 * place in each array it is in, so removal is a swap with the last element in O(1). A Map or Set
 * entry per index cost ~130–170 B of JSC heap each; an array slot costs 8.
 */
import type { Connection } from './connection.ts';

class Entry {
  sub: string | null = null;
  sid: string | null = null;
  /** Its index in `all`, in its user's array and in its login session's array (-1: not there). */
  at = -1;
  subAt = -1;
  sidAt = -1;
  constructor(readonly connection: Connection) {}
}

type Place = 'at' | 'subAt' | 'sidAt';

function push(list: Entry[], entry: Entry, place: Place): void {
  entry[place] = list.length;
  list.push(entry);
}

/** Removes `entry` by moving the last element into its place. */
function pull(list: Entry[], entry: Entry, place: Place): void {
  const last = list.pop()!;
  if (last !== entry) {
    list[entry[place]] = last;
    last[place] = entry[place];
  }
  entry[place] = -1;
}

const entryOf = (connection: Connection): Entry | undefined => connection.registryEntry as Entry | undefined;

export class ConnectionRegistry {
  readonly #all: Entry[] = [];
  readonly #bySub = new Map<string, Entry[]>();
  readonly #bySid = new Map<string, Entry[]>();

  add(connection: Connection): void {
    if (entryOf(connection) !== undefined) return;
    const entry = new Entry(connection);
    connection.registryEntry = entry;
    push(this.#all, entry, 'at');
  }

  get size(): number {
    return this.#all.length;
  }

  /** A copy: closing a connection removes it meanwhile. */
  connections(): Connection[] {
    return this.#all.map((entry) => entry.connection);
  }

  /** Records an authenticated connection under its user (and session, when the auth service named one). */
  bind(connection: Connection, sub: string, sid: string | null): void {
    const entry = entryOf(connection);
    if (entry === undefined || entry.sub !== null) return; // not open, or bound already
    entry.sub = sub;
    addTo(this.#bySub, sub, entry, 'subAt');
    this.#setSid(entry, sid);
  }

  /**
   * After an in-band refresh the socket lives on the refresh ticket's login session, which may be
   * another one of the same user's: revocation must follow it there (logging out the new session
   * closes it, logging out the old one no longer does).
   */
  rebind(connection: Connection, sid: string | null): void {
    const entry = entryOf(connection);
    if (entry === undefined || entry.sub === null || entry.sid === sid) return; // not open or not bound
    if (entry.sid !== null) removeFrom(this.#bySid, entry.sid, entry, 'sidAt');
    this.#setSid(entry, sid);
  }

  /** Forgets the connection; returns the user it was bound to, if any. */
  remove(connection: Connection): string | undefined {
    const entry = entryOf(connection);
    if (entry === undefined) return undefined;
    connection.registryEntry = undefined;
    pull(this.#all, entry, 'at');
    if (entry.sub === null) return undefined;
    removeFrom(this.#bySub, entry.sub, entry, 'subAt');
    if (entry.sid !== null) removeFrom(this.#bySid, entry.sid, entry, 'sidAt');
    return entry.sub;
  }

  forUser(sub: string): Connection[] {
    return (this.#bySub.get(sub) ?? []).map((entry) => entry.connection);
  }

  forSession(sid: string): Connection[] {
    return (this.#bySid.get(sid) ?? []).map((entry) => entry.connection);
  }

  /** The user an authenticated connection is bound to. */
  subOf(connection: Connection): string | undefined {
    return entryOf(connection)?.sub ?? undefined;
  }

  users(): number {
    return this.#bySub.size;
  }

  #setSid(entry: Entry, sid: string | null): void {
    entry.sid = sid;
    if (sid !== null) addTo(this.#bySid, sid, entry, 'sidAt');
  }
}

function addTo(index: Map<string, Entry[]>, key: string, entry: Entry, place: Place): void {
  let list = index.get(key);
  if (list === undefined) index.set(key, (list = []));
  push(list, entry, place);
}

function removeFrom(index: Map<string, Entry[]>, key: string, entry: Entry, place: Place): void {
  const list = index.get(key);
  if (list === undefined || entry[place] === -1) return;
  pull(list, entry, place);
  if (list.length === 0) index.delete(key); // no empty arrays left behind by users who came and went
}
