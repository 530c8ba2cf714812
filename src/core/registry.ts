/**
 * Open connections, indexed by user and by login session once authenticated: per-user caps,
 * logout revocation and admin kicks look sockets up here. Entries go when the socket closes.
 */
import type { Connection } from './connection.ts';

interface Keys {
  readonly sub: string;
  readonly sid: string | null;
}

export class ConnectionRegistry {
  /** Every open connection, with its keys once bound (one entry per socket, not one per index). */
  readonly #all = new Map<Connection, Keys | null>();
  readonly #bySub = new Map<string, Set<Connection>>();
  readonly #bySid = new Map<string, Set<Connection>>();

  add(connection: Connection): void {
    this.#all.set(connection, null);
  }

  get size(): number {
    return this.#all.size;
  }

  /** A copy: closing a connection removes it meanwhile. */
  connections(): Connection[] {
    return [...this.#all.keys()];
  }

  /** Records an authenticated connection under its user (and session, when the auth service named one). */
  bind(connection: Connection, sub: string, sid: string | null): void {
    if (this.#all.get(connection) !== null) return; // not open, or bound already
    this.#all.set(connection, { sub, sid });
    addTo(this.#bySub, sub, connection);
    if (sid !== null) addTo(this.#bySid, sid, connection);
  }

  /**
   * After an in-band refresh the socket lives on the refresh ticket's login session, which may be
   * another one of the same user's: revocation must follow it there (logging out the new session
   * closes it, logging out the old one no longer does).
   */
  rebind(connection: Connection, sid: string | null): void {
    const keys = this.#all.get(connection);
    if (!keys || keys.sid === sid) return; // not open or not bound
    if (keys.sid !== null) removeFrom(this.#bySid, keys.sid, connection);
    if (sid !== null) addTo(this.#bySid, sid, connection);
    this.#all.set(connection, { sub: keys.sub, sid });
  }

  /** Forgets the connection; returns the user it was bound to, if any. */
  remove(connection: Connection): string | undefined {
    const keys = this.#all.get(connection);
    this.#all.delete(connection);
    if (!keys) return undefined;
    removeFrom(this.#bySub, keys.sub, connection);
    if (keys.sid !== null) removeFrom(this.#bySid, keys.sid, connection);
    return keys.sub;
  }

  forUser(sub: string): Connection[] {
    return [...(this.#bySub.get(sub) ?? [])];
  }

  forSession(sid: string): Connection[] {
    return [...(this.#bySid.get(sid) ?? [])];
  }

  /** The user an authenticated connection is bound to. */
  subOf(connection: Connection): string | undefined {
    return this.#all.get(connection)?.sub;
  }

  users(): number {
    return this.#bySub.size;
  }
}

function addTo(index: Map<string, Set<Connection>>, key: string, connection: Connection): void {
  let set = index.get(key);
  if (set === undefined) index.set(key, (set = new Set()));
  set.add(connection);
}

function removeFrom(index: Map<string, Set<Connection>>, key: string, connection: Connection): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(connection);
  if (set.size === 0) index.delete(key);
}
