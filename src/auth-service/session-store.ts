/** A login session of the embedded auth service. Times are epoch milliseconds. */
export interface SessionRecord {
  readonly sub: string;
  /** When the session ends unless a ticket request extends it (sliding). */
  readonly exp: number;
  /** The absolute end, fixed at login: no extension goes past it. Absent: `exp` cannot move. */
  readonly maxExp?: number;
}

export interface SessionStore {
  put(sid: string, record: SessionRecord): Promise<void>;
  /** The live session, or null when unknown or expired. */
  get(sid: string): Promise<SessionRecord | null>;
  /**
   * Moves a live session's end to `exp`, capped at its `maxExp`, in one atomic step; never moves it
   * earlier (two racing extensions keep the later end). Returns the session as it is afterwards, or
   * null when it is unknown or expired.
   */
  extend(sid: string, exp: number): Promise<SessionRecord | null>;
  delete(sid: string): Promise<void>;
  close(): Promise<void>;
}
