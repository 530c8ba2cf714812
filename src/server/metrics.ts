/**
 * Prometheus metrics for the server: a GatewayObserver that the core calls, plus hooks for the
 * breaker, Redis and admission. Everything lives in this module's own Registry, never
 * prom-client's global one: two servers in one process (tests, a library user's app) would
 * otherwise collide on metric names.
 *
 * Every label value is bounded: reasons, kinds and close codes outside the known sets are
 * reported as `other`, because a peer chooses its close code and an external auth service its
 * rejection reason, and an unbounded label is a memory leak in Prometheus and here.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RejectReason } from '../auth-service/tickets.ts';
import type { BreakerState } from '../auth/verifiers/resilient.ts';
import type { RefusalReason } from '../core/admission/index.ts';
import { isMethodName } from '../api/schemas.ts';
import { CloseCodes } from '../protocol/close-codes.ts';
import type { GatewayObserver, Phase } from '../core/observer.ts';

/** The package version (`hws_build_info{version}`); test/unit/metrics.test.ts keeps it equal to package.json. */
export const PACKAGE_VERSION = '0.1.0';

export interface GatewayMetrics extends Required<GatewayObserver> {
  readonly registry: Registry;
  /** The `Content-Type` of `scrape()`'s text. */
  readonly contentType: string;
  breakerChanged(state: BreakerState): void;
  redisError(): void;
  /** An upgrade refused before the WebSocket opened; limit refusals also count as limit hits. */
  upgradeRefused(reason: string, isLimit: boolean): void;
  /** One backend hook call (rpc, subscribe, publish): `answer`, or `unavailable` and why. */
  hookCalled(hook: string, result: 'answer' | 'unavailable', reason: string, seconds: number): void;
  hookBreakerChanged(hook: string, state: BreakerState): void;
  /** One server API request, refused ones included (`method` is `other` unless it names a method). */
  apiCalled(method: string, status: number, seconds: number): void;
  /** The text exposition: gateway metrics, then default process metrics where the runtime has them. */
  scrape(): Promise<string>;
}

export interface MetricsOptions {
  readonly runtime: string;
  readonly runtimeVersion: string;
  /** prom-client's process/runtime metrics (CPU, memory, event loop lag, …). Default true. */
  readonly defaultMetrics?: boolean;
}

/** 1 ms to 5 s: an in-process verification takes about a millisecond, the verify timeout is ≤ 30 s (default 2 s). */
export const VERIFY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
const LIVE_PHASES = ['awaiting_ticket', 'verifying', 'authenticated'] as const satisfies readonly Phase[];

// Records keyed by the source's own union types: adding a reason there without adding it here fails to compile.
const REJECT_REASONS: Record<RejectReason, true> = {
  unknown_ticket: true,
  expired: true,
  origin_mismatch: true,
  ip_mismatch: true,
  session_ended: true,
};
const REFUSAL_REASONS: Record<RefusalReason, true> = {
  bad_request_target: true,
  unknown_host: true,
  bad_upgrade: true,
  origin_missing: true,
  origin_forbidden: true,
  server_full: true,
  too_many_connections: true,
  upgrade_rate: true,
};
/** `rejected` is the HTTP verifier's word for a reason it did not recognise; the rest are the `unavailable` reasons of src/auth/verifiers. */
const OTHER_AUTH_REASONS = [
  'ok',
  'rejected',
  'timeout',
  'unreachable',
  'bad_response',
  'verifier_unauthorized',
  'overloaded',
  'circuit_open',
  'verifier_error',
  'bad_result',
];
const AUTH_REASONS = new Set([...Object.keys(REJECT_REASONS), ...OTHER_AUTH_REASONS]);
/** Limits reported by the connection driver (src/core/connection.ts) and by admission. */
const LIMIT_KINDS = new Set([
  'message_rate',
  'pending_events',
  'send_buffer',
  'user_connections',
  'server_full',
  'too_many_connections',
  'upgrade_rate',
]);
/** RFC 6455 codes a peer or runtime may report, and every code the gateway sends. */
const CLOSE_CODES = new Set([
  1000,
  1001,
  1002,
  1003,
  1005,
  1006,
  1007,
  1008,
  1009,
  1010,
  1011,
  1012,
  1013,
  1014,
  1015,
  ...Object.values(CloseCodes).map((c) => c.code),
]);

/** What a backend hook call can end with (src/hooks/backend-hook.ts, src/auth/circuit-breaker.ts). */
const HOOK_REASONS = new Set([
  'ok',
  'timeout',
  'unreachable',
  'bad_answer',
  'answer_too_large',
  'bad_request',
  'circuit_open',
  'overloaded',
  'error',
]);
const HOOK_NAMES = new Set(['rpc', 'subscribe', 'publish']);
/** 1 ms to 10 s: a hook on the same network answers in milliseconds, the hook timeout is ≤ 30 s (default 2 s). */
const HOOK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const closeCodeLabel = (code: number): string => (CLOSE_CODES.has(code) ? String(code) : 'other');
export const limitKindLabel = (kind: string): string => (LIMIT_KINDS.has(kind) ? kind : 'other');
export const refusalLabel = (reason: string): string => (reason in REFUSAL_REASONS ? reason : 'other');

/** Known reasons as they are; `status_503` → `status_5xx`; anything else → `other`. */
export const authReasonLabel = (reason: string): string => (AUTH_REASONS.has(reason) ? reason : statusClassOr(reason));
export const hookReasonLabel = (reason: string): string => (HOOK_REASONS.has(reason) ? reason : statusClassOr(reason));
export const hookLabel = (hook: string): string => (HOOK_NAMES.has(hook) ? hook : 'other');
export const apiMethodLabel = (method: string): string => (isMethodName(method) ? method : 'other');

/** `status_503` → `status_5xx`; anything else → `other`. */
function statusClassOr(reason: string): string {
  const status = /^status_([1-5])\d\d$/.exec(reason);
  return status ? `status_${status[1]}xx` : 'other';
}

export function createMetrics(options: MetricsOptions): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  // Per-connect counts are plain numbers too (a connect changes phase four times, then closes),
  // handed to prom-client only when scraped: its labelled inc/dec hash their labels on every call.
  const phases = new Map<string, number>(LIVE_PHASES.map((state) => [state, 0]));
  const closes = new Map<string, number>();
  const verifications = new Map<string, { result: string; reason: string; count: number }>();
  let openedCount = 0;
  new Gauge({
    name: 'hws_connections',
    help: 'Open WebSocket connections by state',
    labelNames: ['state'],
    registers,
    collect() {
      for (const [state, count] of phases) this.set({ state }, count);
    },
  });
  new Counter({
    name: 'hws_connections_opened_total',
    help: 'WebSocket connections opened',
    registers,
    collect() {
      this.reset();
      this.inc(openedCount);
    },
  });
  new Counter({
    name: 'hws_connections_closed_total',
    help: 'WebSocket connections closed, by close code',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset();
      for (const [code, count] of closes) this.inc({ code }, count);
    },
  });
  new Counter({
    name: 'hws_auth_total',
    help: 'Ticket verifications by result (ok, rejected, unavailable) and reason',
    labelNames: ['result', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const { result, reason, count } of verifications.values()) this.inc({ result, reason }, count);
    },
  });
  const verifyDuration = new Histogram({
    name: 'hws_verify_duration_seconds',
    help: 'Time to verify one ticket with the auth service',
    labelNames: ['result'],
    buckets: VERIFY_BUCKETS,
    registers,
  });
  const authErrors = new Counter({
    name: 'hws_auth_service_errors_total',
    help: 'Verifications that found the auth service unavailable (timeout, error, overload, open breaker)',
    registers,
  });
  const breaker = new Gauge({
    name: 'hws_circuit_breaker_state',
    help: 'Auth service circuit breaker: 0 closed, 1 half-open, 2 open',
    registers,
  });
  breaker.set(0);
  // Per-message counts are plain numbers, handed to prom-client only when scraped (hot path).
  const flow = { inCount: 0, inBytes: 0, outCount: 0, outBytes: 0, deliveries: 0 };
  new Counter({
    name: 'hws_messages_total',
    help: 'WebSocket messages by direction (in, out)',
    labelNames: ['direction'],
    registers,
    collect() {
      this.reset();
      this.inc({ direction: 'in' }, flow.inCount);
      this.inc({ direction: 'out' }, flow.outCount);
    },
  });
  new Counter({
    name: 'hws_bytes_total',
    help: 'WebSocket message payload bytes by direction (in, out)',
    labelNames: ['direction'],
    registers,
    collect() {
      this.reset();
      this.inc({ direction: 'in' }, flow.inBytes);
      this.inc({ direction: 'out' }, flow.outBytes);
    },
  });
  const limitHits = new Counter({
    name: 'hws_limit_hits_total',
    help: 'Limits that closed a socket or refused an upgrade, by kind',
    labelNames: ['kind'],
    registers,
  });
  const refused = new Counter({
    name: 'hws_upgrades_refused_total',
    help: 'Upgrades refused before the WebSocket opened, by reason',
    labelNames: ['reason'],
    registers,
  });
  const publishes = new Counter({
    name: 'hws_broker_publishes_total',
    help: 'Channel publishes by result (ok, error)',
    labelNames: ['result'],
    registers,
  });
  new Counter({
    name: 'hws_broker_deliveries_total',
    help: 'Channel messages delivered to a socket',
    registers,
    collect() {
      this.reset();
      this.inc(flow.deliveries);
    },
  });
  const resyncs = new Counter({
    name: 'hws_channel_resyncs_total',
    help: "Channel resyncs here: a channel's stream lost data and its subscribers on this instance were told to reload",
    registers,
  });
  const recoveries = new Counter({
    name: 'hws_recoveries_total',
    help: 'Subscribes with `since`, by result: recovered (every missed publication sent) or resync (told to reload)',
    labelNames: ['result'],
    registers,
  });
  const hookCalls = new Counter({
    name: 'hws_hook_calls_total',
    help: 'Backend hook calls by hook (rpc, subscribe, publish), result (answer, unavailable) and reason',
    labelNames: ['hook', 'result', 'reason'],
    registers,
  });
  const hookDuration = new Histogram({
    name: 'hws_hook_duration_seconds',
    help: 'Time to an answer (or to giving up) of one backend hook call',
    labelNames: ['hook'],
    buckets: HOOK_BUCKETS,
    registers,
  });
  const hookBreaker = new Gauge({
    name: 'hws_hook_breaker_state',
    help: "A backend hook's circuit breaker: 0 closed, 1 half-open, 2 open",
    labelNames: ['hook'],
    registers,
  });
  const apiRequests = new Counter({
    name: 'hws_api_requests_total',
    help: 'Server API requests by method and HTTP status, refused ones included',
    labelNames: ['method', 'status'],
    registers,
  });
  const apiDuration = new Histogram({
    name: 'hws_api_duration_seconds',
    help: 'Time to answer one server API request',
    labelNames: ['method'],
    buckets: VERIFY_BUCKETS,
    registers,
  });
  const redisErrors = new Counter({
    name: 'hws_redis_errors_total',
    help: 'Redis connection errors (each failed connection or reconnect attempt)',
    registers,
  });
  new Gauge({
    name: 'hws_build_info',
    help: 'Always 1; labels name the runtime and versions',
    labelNames: ['runtime', 'runtime_version', 'version'],
    registers,
  }).set({ runtime: options.runtime, runtime_version: options.runtimeVersion, version: PACKAGE_VERSION }, 1);

  const processRegistry = options.defaultMetrics === false ? null : defaultMetricsRegistry();

  return {
    registry,
    contentType: registry.contentType,
    phaseChanged: (from, to) => {
      if (from === null) openedCount++;
      else if (from !== 'closed') phases.set(from, (phases.get(from) ?? 0) - 1);
      if (to !== 'closed') phases.set(to, (phases.get(to) ?? 0) + 1);
    },
    closed: (code) => {
      const label = closeCodeLabel(code);
      closes.set(label, (closes.get(label) ?? 0) + 1);
    },
    verified: (result, reason, seconds) => {
      const label = authReasonLabel(reason);
      const key = `${result} ${label}`;
      const entry = verifications.get(key);
      if (entry === undefined) verifications.set(key, { result, reason: label, count: 1 });
      else entry.count++;
      verifyDuration.observe({ result }, Math.max(0, seconds));
      if (result === 'unavailable') authErrors.inc();
    },
    messageIn: (n) => {
      flow.inCount++;
      flow.inBytes += n;
    },
    messageOut: (n, count = 1) => {
      flow.outCount += count;
      flow.outBytes += n * count;
    },
    limitHit: (kind) => limitHits.inc({ kind: limitKindLabel(kind) }),
    published: (ok) => publishes.inc({ result: ok ? 'ok' : 'error' }),
    delivered: (count = 1) => {
      flow.deliveries += count;
    },
    resynced: () => resyncs.inc(),
    recovery: (outcome) => recoveries.inc({ result: outcome }),
    breakerChanged: (state) => breaker.set(BREAKER_VALUE[state]),
    hookCalled: (hook, result, reason, seconds) => {
      const label = hookLabel(hook);
      hookCalls.inc({ hook: label, result, reason: hookReasonLabel(reason) });
      hookDuration.observe({ hook: label }, Math.max(0, seconds));
    },
    hookBreakerChanged: (hook, state) => hookBreaker.set({ hook: hookLabel(hook) }, BREAKER_VALUE[state]),
    apiCalled: (method, status, seconds) => {
      const label = apiMethodLabel(method);
      apiRequests.inc({ method: label, status: String(status) });
      apiDuration.observe({ method: label }, Math.max(0, seconds));
    },
    redisError: () => redisErrors.inc(),
    upgradeRefused: (reason, isLimit) => {
      refused.inc({ reason: refusalLabel(reason) });
      if (isLimit) limitHits.inc({ kind: limitKindLabel(reason) });
    },
    scrape: async () => {
      const own = await registry.metrics();
      if (processRegistry === null) return own;
      try {
        return `${own}\n${await processRegistry.metrics()}`;
      } catch {
        return own; // a default collector that fails on this runtime must not take the gateway's metrics down
      }
    },
  };
}

/**
 * prom-client's default metrics in a registry of their own, so that a collector that throws on
 * some runtime (they read /proc, perf_hooks, process internals) can be dropped at scrape time.
 * Checked on Node 20, Bun 1.4.5 and Deno 2.9.6: all register and collect (Deno has no
 * process_max_fds). Null if registration itself throws.
 */
function defaultMetricsRegistry(): Registry | null {
  const register = new Registry();
  try {
    collectDefaultMetrics({ register });
    return register;
  } catch {
    return null;
  }
}
