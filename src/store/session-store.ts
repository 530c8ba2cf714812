/** A login session of the embedded auth service. Times are epoch milliseconds. */
export interface SessionRecord {
  readonly sub: string;
  readonly exp: number;
}

export interface SessionStore {
  put(sid: string, record: SessionRecord): Promise<void>;
  /** The live session, or null when unknown or expired. */
  get(sid: string): Promise<SessionRecord | null>;
  delete(sid: string): Promise<void>;
  close(): Promise<void>;
}
