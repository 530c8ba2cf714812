/**
 * The `rpc` message handler: `{"type":"rpc","id","method","data"}` from an authenticated client is
 * POSTed to the application's backend with the socket's identity and claims; its answer becomes
 * `{"type":"rpc","id","data"}`, or an error reply (`rpc_error` with the backend's code,
 * `backend_unavailable`, `rate_limited`). An rpc does not hold back the socket's later messages
 * (its reply may come after theirs: match it by id), and nothing about it closes the socket.
 */
import type { Handler, HandlerContext } from '../core/handler.ts';
import { TokenBucket, type RateSpec } from '../core/token-bucket.ts';
import type { ErrorReply } from '../protocol/messages.ts';
import type { BackendHook } from './backend-hook.ts';
import type { z } from 'zod';
import type { RpcHookAnswer } from './schemas.ts';

export interface RpcOptions {
  readonly hook: Pick<BackendHook<z.output<typeof RpcHookAnswer>>, 'call'>;
  /** Calls per connection (token bucket). */
  readonly rate: RateSpec;
  /** Calls of one connection waiting for the backend at once; more are `rate_limited`. Default 16. */
  readonly maxPendingPerConnection?: number;
  readonly now?: () => number;
}

/** A method name: what a backend can route on, nothing it would have to escape. */
const METHOD = /^[A-Za-z0-9_.:/-]{1,128}$/;

export function rpcHandler(options: RpcOptions): Handler {
  const now = options.now ?? Date.now;
  const maxPending = options.maxPendingPerConnection ?? 16;
  const connections = new Map<string, { bucket: TokenBucket; pending: number }>();

  const stateOf = (ctx: HandlerContext) => {
    let state = connections.get(ctx.connectionId);
    if (state === undefined) {
      const created = { bucket: new TokenBucket(options.rate, now()), pending: 0 };
      connections.set(ctx.connectionId, created);
      ctx.onClose(() => connections.delete(ctx.connectionId));
      state = created;
    }
    return state;
  };

  return (message, ctx) => {
    const { id, method } = message;
    const reply = (error: Omit<ErrorReply, 'type' | 'id'>) => ctx.send({ type: 'error', ...(id === undefined ? {} : { id }), ...error });
    // An rpc without an id could never be matched with its answer.
    if (id === undefined || typeof method !== 'string' || !METHOD.test(method)) return reply({ code: 'invalid_message' });
    const state = stateOf(ctx);
    const taken = state.bucket.take(now());
    if (!taken.ok) return reply({ code: 'rate_limited', retryAfterMs: taken.retryAfterMs });
    if (state.pending >= maxPending) return reply({ code: 'rate_limited', retryAfterMs: 100 });
    state.pending++;
    const { sub, claims } = ctx.identity;
    const request = { type: 'rpc', connectionId: ctx.connectionId, sub, claims, method, data: message.data ?? null };
    // Not returned: the socket's next messages are handled while the backend thinks.
    void options.hook.call(request).then((result) => {
      state.pending--;
      if (result.kind === 'unavailable') {
        ctx.logger.debug({ method, reason: result.reason }, 'rpc.unavailable');
        return reply({ code: 'backend_unavailable', ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }) });
      }
      const answer = result.body;
      if ('error' in answer)
        return reply({
          code: 'rpc_error',
          reason: answer.error.code,
          ...(answer.error.message === undefined ? {} : { message: answer.error.message }),
        });
      ctx.send({ type: 'rpc', id, data: answer.data });
    });
  };
}
