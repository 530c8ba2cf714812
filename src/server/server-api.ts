/**
 * The server API as the server runs it: the methods over the ChannelService, the revocation bus and
 * the cluster view, mounted under /api on the main port or on its own listener (--api-port), only
 * when --api-key is set. The cluster view runs on every instance either way, so that an instance
 * with the API answers for all of them.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { methodHandlers } from '../api/methods.ts';
import { openApiDocument } from '../api/openapi.ts';
import { apiRoutes } from '../api/routes.ts';
import type { Broker } from '../channels/broker.ts';
import type { ChannelService } from '../channels/channel-service.ts';
import type { Config } from '../config/index.ts';
import type { Gateway } from '../core/gateway.ts';
import { hookWebhooks } from '../hooks/schemas.ts';
import type { Logger } from '../logging/logger.ts';
import { createClusterView, type ClusterViewHandle } from './cluster-view.ts';
import { PACKAGE_VERSION } from './metrics.ts';
import { listenConfigError } from './listen-errors.ts';
import type { Listening, Platform } from './platform.ts';
import type { RevocationBus } from './revocations.ts';

export interface ServerApiDeps {
  readonly channels: ChannelService;
  readonly broker: Broker;
  readonly gateway: Gateway;
  readonly revocations: RevocationBus;
  /** Local subscriber counts per channel. */
  readonly localChannels: () => Iterable<readonly [string, number]>;
  readonly runtime: { readonly name: string; readonly version: string };
  readonly clientIp: (c: Context) => string | null;
  /** Resolves the client IP `clientIp` reads: the first middleware of the API's own listener too. */
  readonly clientIpMiddleware: MiddlewareHandler;
  readonly logger: Logger;
  /** Told of every API request once answered (the server's metrics). */
  readonly onApiAnswered?: (method: string, status: number, seconds: number) => void;
}

export interface ServerApi {
  /** The /api routes for the main port: when --api-key is set without --api-port. */
  readonly routes: Hono | null;
  /** The whole app of the API's own listener: when --api-key and --api-port are set. */
  readonly listenerApp: Hono | null;
  readonly cluster: ClusterViewHandle;
  close(): Promise<void>;
}

/** The OpenAPI document the server serves and docs/api.openapi.json holds: the API and its webhooks (the hooks). */
export const serverOpenApi = () => openApiDocument(PACKAGE_VERSION, hookWebhooks);

export function buildServerApi(config: Config, deps: ServerApiDeps): ServerApi {
  const startedAt = new Date().toISOString();
  const cluster = createClusterView(
    deps.broker,
    {
      info: () => ({
        version: PACKAGE_VERSION,
        runtime: deps.runtime.name,
        runtimeVersion: deps.runtime.version,
        connections: deps.gateway.connectionCount(),
        users: deps.gateway.userCount(),
        startedAt,
      }),
      channels: deps.localChannels,
    },
    deps.logger.child({ component: 'cluster' }),
  );
  const api =
    config.apiKey === undefined
      ? null
      : (apiRoutes({
          keys: config.apiKey,
          maxBodyBytes: config.apiMaxBody,
          handlers: methodHandlers({
            channels: deps.channels,
            cluster,
            disconnector: deps.revocations,
            maxDataBytes: config.maxMessage,
            version: PACKAGE_VERSION,
          }),
          logger: deps.logger.child({ component: 'api' }),
          ...(deps.onApiAnswered === undefined ? {} : { onAnswered: deps.onApiAnswered }),
          clientIp: deps.clientIp,
          openApi: serverOpenApi(),
        }) as unknown as Hono);
  let listenerApp: Hono | null = null;
  if (api !== null && config.apiPort !== undefined) {
    listenerApp = new Hono();
    listenerApp.use(deps.clientIpMiddleware, requestId({ limitLength: 128 }));
    listenerApp.route('/', api);
    listenerApp.notFound((c) => c.json({ error: { code: 'unknown_method', message: 'the server API is under /api/' } }, 404));
  }
  return { routes: config.apiPort === undefined ? api : null, listenerApp, cluster, close: () => cluster.close() };
}

/** Starts the API's own listener when --api-port is set; logs `api.listening` with its URL. */
export async function listenApi(config: Config, platform: Platform, api: ServerApi, logger: Logger): Promise<Listening | null> {
  if (api.listenerApp === null || config.apiPort === undefined) return null;
  const listening = await platform
    .listen(api.listenerApp, {
      port: config.apiPort,
      host: config.apiHost,
      // No WebSocket route on this listener; these only satisfy the listen contract.
      maxPayloadBytes: 1024,
      maxBufferedBytes: 1024,
      heartbeat: { intervalMs: 60_000, timeoutMs: 60_000 },
    })
    .catch((error: unknown) => {
      throw (
        listenConfigError(error, { portOption: 'api-port', hostOption: 'api-host', host: config.apiHost, port: config.apiPort! }) ?? error
      );
    });
  const host = config.apiHost.includes(':') ? `[${config.apiHost}]` : config.apiHost;
  logger.info({ url: `http://${host}:${listening.port}/api/` }, 'api.listening');
  return listening;
}
