/**
 * What the server API needs besides the ChannelService, implemented where the server is assembled
 * (src/server/): the cluster's view (active channels, instances: asked of every instance) and
 * disconnects (the revocation bus, which reaches every instance).
 */
import type { RevocationTarget } from '../core/gateway.ts';

export interface InstanceInfo {
  readonly id: string;
  readonly version: string;
  readonly runtime: string;
  readonly runtimeVersion: string;
  /** Open sockets, in any state. */
  readonly connections: number;
  /** Authenticated users with a socket here. */
  readonly users: number;
  /** ISO 8601. */
  readonly startedAt: string;
}

export interface ChannelCount {
  readonly channel: string;
  readonly subscribers: number;
}

/** The answers of every instance that answered in time, and the ones known to be alive that did not. */
export interface ClusterAnswers<T> {
  readonly answers: readonly T[];
  readonly missing: readonly string[];
}

export interface ClusterView {
  /** Each instance's channels matching `pattern` (all without), busiest first, at most `limit`; `truncated` when it had more. */
  channels(request: {
    readonly pattern?: string;
    readonly limit: number;
  }): Promise<ClusterAnswers<{ readonly channels: readonly ChannelCount[]; readonly truncated: boolean }>>;
  info(): Promise<ClusterAnswers<InstanceInfo>>;
}

export interface Disconnector {
  /** Closes the matching sockets here with `code` and tells every other instance to; rejects (`unavailable`) when it cannot reach them. */
  disconnect(target: RevocationTarget, code: number): Promise<number>;
}
