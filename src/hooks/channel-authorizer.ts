/**
 * The ChannelAuthorizer (src/channels/authorizer.ts) over the subscribe and publish hooks: in a
 * namespace marked `proxy`, the application's backend decides. Its allow may carry the
 * connection's info for the channel; its deny a code and words for the client. A backend that
 * cannot answer is `unavailable`: refused, never allowed.
 */
import type { z } from 'zod';
import type { AccessRequest, ChannelAuthorizer, ChannelDecision } from '../channels/authorizer.ts';
import type { ChannelAction } from '../channels/permissions.ts';
import type { BackendHook } from './backend-hook.ts';
import type { ChannelHookAnswer } from './schemas.ts';

type Hook = Pick<BackendHook<z.output<typeof ChannelHookAnswer>>, 'call'>;

export interface ChannelAuthorizerOptions {
  /** Which actions the backend decides for a channel: its namespace's `proxy` option. */
  readonly proxyOf: (channel: string) => 'off' | 'subscribe' | 'publish' | 'both';
  readonly subscribe?: Hook;
  readonly publish?: Hook;
}

export function hookAuthorizer(options: ChannelAuthorizerOptions): ChannelAuthorizer {
  const hookFor = (action: ChannelAction) => (action === 'subscribe' ? options.subscribe : options.publish);
  return {
    decides(action, channel) {
      const proxy = options.proxyOf(channel);
      return proxy === 'both' || proxy === action;
    },
    async authorize(request: AccessRequest): Promise<ChannelDecision> {
      const hook = hookFor(request.action);
      // A proxied namespace without its hook is refused at startup; refusing here too keeps it closed.
      if (hook === undefined) return { kind: 'unavailable' };
      const { sub, claims } = request.identity;
      const body = {
        type: request.action,
        connectionId: request.connectionId,
        sub,
        claims,
        channel: request.channel,
        ...(request.action === 'publish' ? { data: request.data ?? null } : {}),
      };
      const result = await hook.call(body);
      if (result.kind === 'unavailable')
        return result.retryAfterMs === undefined ? { kind: 'unavailable' } : { kind: 'unavailable', retryAfterMs: result.retryAfterMs };
      const answer = result.body;
      if (!answer.allow)
        return answer.message === undefined
          ? { kind: 'deny', reason: answer.reason }
          : { kind: 'deny', reason: answer.reason, message: answer.message };
      // Info is a subscribe's: a publish is allowed or not.
      return request.action === 'subscribe' && answer.info !== undefined ? { kind: 'allow', info: answer.info } : { kind: 'allow' };
    },
  };
}
