/**
 * Which options a channel has: its namespace (the part of its name before the first `:`) looked
 * up in the configured table; a channel without a namespace, or in one the table does not name,
 * gets NO_FEATURES (live delivery only).
 */
import type { HistoryPolicy } from './stream.ts';

/** One namespace's options (durations in ms); the config's NamespaceConfig has this shape. */
export interface NamespaceOptions {
  /** 0 = no history. */
  readonly historySize: number;
  readonly historyTtl: number;
  readonly historyMetaTtl: number;
  readonly recovery: boolean;
  readonly presence: boolean;
  readonly joinLeave: boolean;
  /** Which client actions the application's backend decides (src/hooks/) instead of the claims. */
  readonly proxy: 'off' | 'subscribe' | 'publish' | 'both';
}

export const NO_FEATURES: NamespaceOptions = Object.freeze({
  historySize: 0,
  historyTtl: 0,
  historyMetaTtl: 0,
  recovery: false,
  presence: false,
  joinLeave: false,
  proxy: 'off',
});

/** The namespace of a channel name, or null when it has no `:`. */
export function namespaceOf(channel: string): string | null {
  const colon = channel.indexOf(':');
  return colon === -1 ? null : channel.slice(0, colon);
}

export class ChannelNamespaces {
  readonly #table: ReadonlyMap<string, NamespaceOptions>;
  readonly #policies = new Map<string, HistoryPolicy>();

  constructor(table: Readonly<Record<string, NamespaceOptions>>) {
    // A Map, not the object: a channel named `__proto__:x` or `constructor:x` must not find Object's members.
    this.#table = new Map(Object.entries(table));
    for (const [name, options] of this.#table) {
      if (options.historySize > 0)
        this.#policies.set(
          name,
          Object.freeze({ size: options.historySize, ttlMs: options.historyTtl, metaTtlMs: options.historyMetaTtl }),
        );
    }
  }

  optionsFor(channel: string): NamespaceOptions {
    const namespace = namespaceOf(channel);
    return (namespace === null ? undefined : this.#table.get(namespace)) ?? NO_FEATURES;
  }

  /** The stream's history policy for the channel; null for live-only channels. */
  historyFor(channel: string): HistoryPolicy | null {
    const namespace = namespaceOf(channel);
    return (namespace === null ? undefined : this.#policies.get(namespace)) ?? null;
  }
}
