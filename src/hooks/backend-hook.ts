/**
 * One backend hook: a JSON POST to the application's backend with the shared secret
 * (`Authorization: Bearer`), inside the circuit guard the verifier uses (src/auth/circuit-breaker.ts:
 * in-flight cap, the deadline, a breaker). The answer is a validated body or `unavailable`: a
 * timeout, a network error, any status but 200, a body that is too large, not JSON or not the
 * contract's, and an open breaker. Never a throw, never a hang past the timeout.
 */
import type { z } from 'zod';
import { createCircuitGuard, type BreakerState, type CircuitGuard } from '../auth/circuit-breaker.ts';

/** fetch's signature, as far as a hook uses it: a POST with headers, a text body and a signal. */
export type HookFetch = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal; redirect: 'manual' },
) => Promise<Response>;

export type HookResult<T> =
  { readonly kind: 'answer'; readonly body: T } | { readonly kind: 'unavailable'; readonly reason: string; readonly retryAfterMs?: number };

export interface BackendHookOptions<T> {
  /** For logs and metrics: rpc, subscribe or publish. */
  readonly name: string;
  readonly url: string;
  /** Sent as `Authorization: Bearer <secret>`; never logged. */
  readonly secret: string;
  /** What a 200 must hold. */
  readonly answer: z.ZodType<T>;
  /** Largest answer body read; larger is a failure. */
  readonly maxAnswerBytes: number;
  readonly timeoutMs: number;
  readonly maxInFlight: number;
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  readonly onStateChange?: (state: BreakerState) => void;
  /** A failed call (not a fast refusal by the open breaker or the cap): for the log. */
  readonly onFailure?: (reason: string) => void;
  /** Every call, fast refusals included: for metrics. `reason` is `ok` for an answer. */
  readonly onCall?: (result: HookResult<T>['kind'], reason: string, seconds: number) => void;
  readonly now?: () => number;
  /**
   * The HTTP client: the runtime's cheapest (on Node, node:http through src/runtime/, about half
   * the CPU of the global fetch per call); defaults to the global fetch. Tests pass their own.
   */
  readonly fetch?: HookFetch;
}

export interface BackendHook<T> {
  call(body: unknown): Promise<HookResult<T>>;
  readonly state: BreakerState;
  readonly inFlight: number;
  close(): void;
}

export function createBackendHook<T>(options: BackendHookOptions<T>): BackendHook<T> {
  const authorization = `Bearer ${options.secret}`;
  // fetch(url, init), not fetch(new Request(…)): the Request object alone doubled Node's cost per call.
  const doFetch: HookFetch = options.fetch ?? ((url, init) => fetch(url, init));
  const headers = { authorization, 'content-type': 'application/json', accept: 'application/json' };
  const guard: CircuitGuard<HookResult<T>> = createCircuitGuard<HookResult<T>>(
    {
      unavailable: (reason, retryAfterMs) =>
        retryAfterMs === undefined ? { kind: 'unavailable', reason } : { kind: 'unavailable', reason, retryAfterMs },
      isFailure: (result) => result.kind === 'unavailable',
    },
    {
      maxInFlight: options.maxInFlight,
      failureThreshold: options.failureThreshold,
      coolDownMs: options.coolDownMs,
      timeoutMs: options.timeoutMs,
      now: options.now,
      onStateChange: options.onStateChange,
    },
  );

  const post = async (body: string, signal: AbortSignal): Promise<HookResult<T>> => {
    let response: Response;
    try {
      response = await doFetch(options.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    } catch (error) {
      return unavailable(isAbort(error) ? 'timeout' : 'unreachable');
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return unavailable(`status_${response.status}`);
    }
    const text = await readBounded(response, options.maxAnswerBytes).catch((error: unknown) => (isAbort(error) ? 'timeout' : null));
    if (text === 'timeout') return unavailable('timeout');
    if (text === null) return unavailable('bad_answer');
    if (text === undefined) return unavailable('answer_too_large');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return unavailable('bad_answer');
    }
    const parsed = options.answer.safeParse(json);
    return parsed.success ? { kind: 'answer', body: parsed.data } : unavailable('bad_answer');
  };

  return {
    async call(body) {
      const started = performance.now();
      let encoded: string | undefined;
      try {
        encoded = JSON.stringify(body);
      } catch {
        // a cycle or a BigInt in what the handler built: below, as `bad_request`
      }
      const result = encoded === undefined ? unavailable<T>('bad_request') : await guard.run((signal) => post(encoded, signal));
      if (result.kind === 'unavailable' && result.reason !== 'circuit_open' && result.reason !== 'overloaded')
        options.onFailure?.(result.reason);
      options.onCall?.(result.kind, result.kind === 'answer' ? 'ok' : result.reason, (performance.now() - started) / 1000);
      return result;
    },
    get state() {
      return guard.state;
    },
    get inFlight() {
      return guard.inFlight;
    },
    close: () => guard.close(),
  };
}

const unavailable = <T>(reason: string): HookResult<T> => ({ kind: 'unavailable', reason });

const isAbort = (error: unknown) => error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');

/** The body as text, or undefined once it passes `max` bytes (then it is not read further). */
async function readBounded(response: Response, max: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
