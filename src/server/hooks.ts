/**
 * The backend hooks the config asks for (each off unless its URL is set): the `rpc` handler and the
 * ChannelAuthorizer for namespaces marked `proxy`, each hook behind its own circuit guard. A
 * proxied namespace without the hook it needs, or a hook without --hook-secret, stops the server
 * at startup (exit 2): it would otherwise refuse every such request.
 */
import type { ChannelAuthorizer } from '../channels/authorizer.ts';
import { ChannelNamespaces } from '../channels/namespaces.ts';
import { ConfigError, type Config } from '../config/index.ts';
import type { Handler } from '../core/handler.ts';
import type { BreakerState } from '../auth/circuit-breaker.ts';
import { createBackendHook, type BackendHook, type HookFetch } from '../hooks/backend-hook.ts';
import { hookAuthorizer } from '../hooks/channel-authorizer.ts';
import { rpcHandler } from '../hooks/rpc.ts';
import { ChannelHookAnswer, RpcHookAnswer } from '../hooks/schemas.ts';
import type { Logger } from '../logging/logger.ts';
import type { z } from 'zod';

export interface Hooks {
  /** The `rpc` message handler, when --hook-rpc-url is set. */
  readonly rpc?: Handler;
  /** Decides subscribes and publishes in `proxy` namespaces, when any namespace has `proxy`. */
  readonly authorizer?: ChannelAuthorizer;
  close(): void;
}

/** Where hook calls and breaker changes are counted (the server's metrics). */
export interface HookObserver {
  hookCalled(hook: string, result: 'answer' | 'unavailable', reason: string, seconds: number): void;
  hookBreakerChanged(hook: string, state: BreakerState): void;
}

export function buildHooks(config: Config, logger: Logger, fetch?: HookFetch, observer?: HookObserver): Hooks {
  const log = logger.child({ component: 'hooks' });
  const proxies = Object.values(config.namespaces).map((options) => options.proxy);
  const needs = {
    subscribe: proxies.some((p) => p === 'both' || p === 'subscribe'),
    publish: proxies.some((p) => p === 'both' || p === 'publish'),
  };
  if (needs.subscribe && config.hookSubscribeUrl === undefined)
    throw new ConfigError('hook-subscribe-url', 'required: a namespace has "proxy" for subscribes');
  if (needs.publish && config.hookPublishUrl === undefined)
    throw new ConfigError('hook-publish-url', 'required: a namespace has "proxy" for publishes');
  const urls = [config.hookRpcUrl, config.hookSubscribeUrl, config.hookPublishUrl];
  if (urls.some((u) => u !== undefined) && config.hookSecret === undefined)
    throw new ConfigError('hook-secret', 'required when a hook URL is set');

  const hooks: BackendHook<unknown>[] = [];
  const hook = <T>(name: string, url: string | undefined, answer: z.ZodType<T>): BackendHook<T> | undefined => {
    if (url === undefined) return undefined;
    const created = createBackendHook({
      name,
      url,
      secret: config.hookSecret!,
      answer,
      // An answer bigger than a client message would only strain the socket's send buffer.
      maxAnswerBytes: config.maxMessage,
      timeoutMs: config.hookTimeout,
      maxInFlight: config.hookMaxInFlight,
      failureThreshold: config.hookBreakerThreshold,
      coolDownMs: config.hookBreakerCooldown,
      onStateChange: (state) => {
        log.warn({ hook: name, state }, 'hook.breaker');
        observer?.hookBreakerChanged(name, state);
      },
      onFailure: (reason) => log.warn({ hook: name, reason }, 'hook.failed'),
      onCall: (result, reason, seconds) => observer?.hookCalled(name, result, reason, seconds),
      ...(fetch === undefined ? {} : { fetch }),
    });
    hooks.push(created as BackendHook<unknown>);
    return created;
  };

  const rpc = hook('rpc', config.hookRpcUrl, RpcHookAnswer);
  const subscribe = needs.subscribe ? hook('subscribe', config.hookSubscribeUrl, ChannelHookAnswer) : undefined;
  const publish = needs.publish ? hook('publish', config.hookPublishUrl, ChannelHookAnswer) : undefined;
  const namespaces = new ChannelNamespaces(config.namespaces);
  return {
    ...(rpc === undefined ? {} : { rpc: rpcHandler({ hook: rpc, rate: config.rpcRate }) }),
    ...(needs.subscribe || needs.publish
      ? { authorizer: hookAuthorizer({ proxyOf: (channel) => namespaces.optionsFor(channel).proxy, subscribe, publish }) }
      : {}),
    close: () => {
      for (const h of hooks) h.close();
    },
  };
}
