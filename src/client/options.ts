/** Defaults for every connect option, and one clear error naming a bad one. */
import { DEFAULT_BACKOFF, type BackoffBounds } from './backoff.ts';
import type { Clock, ClientLogger, ConnectOptions, WebSocketConstructor } from './types.ts';

export interface ResolvedOptions {
  readonly url: string;
  readonly getTicket: () => Promise<unknown>;
  readonly WebSocket: WebSocketConstructor;
  readonly backoff: BackoffBounds;
  readonly maxPendingSends: number;
  readonly requestTimeoutMs: number;
  readonly refreshBeforeMs: number;
  readonly connectTimeoutMs: number;
  readonly maxGapFill: number;
  readonly logger: ClientLogger;
  readonly clock: Clock;
  readonly random: () => number;
}

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

function count(name: string, value: number | undefined, fallback: number, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new RangeError(`hardened-ws client: option ${name} must be a number ≥ ${min}`);
  return v;
}

export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  if (typeof options.url !== 'string' || options.url.length === 0) throw new TypeError('hardened-ws client: option url is required');
  if (typeof options.getTicket !== 'function') throw new TypeError('hardened-ws client: option getTicket must be a function');
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (WebSocketImpl === undefined) {
    throw new TypeError(
      "hardened-ws client: there is no global WebSocket here; pass option WebSocket (on Node 20: `import WebSocket from 'ws'`)",
    );
  }
  const minMs = count('backoff.minMs', options.backoff?.minMs, DEFAULT_BACKOFF.minMs, 1);
  const maxMs = count('backoff.maxMs', options.backoff?.maxMs, Math.max(DEFAULT_BACKOFF.maxMs, minMs), minMs);
  return {
    url: options.url,
    getTicket: options.getTicket,
    WebSocket: WebSocketImpl,
    backoff: { minMs, maxMs },
    maxPendingSends: Math.floor(count('maxPendingSends', options.maxPendingSends, 100)),
    requestTimeoutMs: count('requestTimeoutMs', options.requestTimeoutMs, 10_000, 1),
    refreshBeforeMs: count('refreshBeforeMs', options.refreshBeforeMs, 10_000),
    connectTimeoutMs: count('connectTimeoutMs', options.connectTimeoutMs, 15_000, 1),
    maxGapFill: Math.floor(count('maxGapFill', options.maxGapFill, 1000)),
    logger: options.logger ?? {},
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
  };
}
