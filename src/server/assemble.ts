/**
 * Builds the server's Hono app from validated config: shared state (memory or Redis), the Host
 * check, the embedded auth service (unless an external one is configured), admission, the gateway with echo,
 * ping and channels, revocations across instances, admin, static pages, health, metrics, request
 * logging and security headers.
 * Concrete stores, brokers and verifiers are chosen here, at the entry point, and passed in.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { ChannelNamespaces, channelHandlers, createChannelService, type ChannelService } from '../channels/index.ts';
import { ConfigError, type Config } from '../config/index.ts';
import { createAdmission, type Admission } from '../core/admission/index.ts';
import { createFanout } from '../core/fanout.ts';
import { createGateway, type Gateway } from '../core/gateway.ts';
import type { Logger } from '../logging/logger.ts';
import { builtinHandlers } from '../builtins/index.ts';
import { adminRoutes } from './admin.ts';
import { createBackends } from './backends.ts';
import { createClientIp } from './client-ip.ts';
import { drainGate } from './drain-gate.ts';
import { createMetrics, type GatewayMetrics } from './metrics.ts';
import { protectedMetricsRoutes } from './metrics-http.ts';
import type { Platform } from './platform.ts';
import { hostCheck, ownNames, type OwnNames } from './own-names.ts';
import { createRevocationBus } from './revocations.ts';
import { staticFiles, staticRoutes } from './static-files.ts';
import { buildVerifier } from './build-verifier.ts';
import { buildHooks } from './hooks.ts';
import { buildServerApi, type ServerApi } from './server-api.ts';
import { SubscriberCounts } from './subscriber-counts.ts';

export interface AssembledServer {
  readonly app: Hono;
  readonly gateway: Gateway;
  readonly metrics: GatewayMetrics;
  /** Publishing, history and presence, the same as the channel handlers use (for the server API). */
  readonly channels: ChannelService;
  /** The server API (its routes are mounted here unless --api-port gives them a listener of their own). */
  readonly api: ServerApi;
  /** Start draining: readiness 503, and upgrades, logins and ticket requests 503 + Retry-After. */
  setDraining(): void;
  /** Tell the server its bound port: without --public-origin, its names are its listen address and port. */
  listeningOn(port: number): void;
  close(): Promise<void>;
}

const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'", 'ws:', 'wss:'],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
};

export function assembleServer(config: Config, platform: Platform, logger: Logger): AssembledServer {
  const app = new Hono();
  let draining = false;
  // Resolved once per request, before any middleware can replace the request; every consumer reads that value.
  const clientIps = createClientIp((c) => platform.clientIp(c), config.trustProxy);
  const clientIp = (c: Context) => clientIps.of(c);
  const metrics = createMetrics({ runtime: platform.name, runtimeVersion: platform.version });
  const backends = createBackends(config, logger, { onRedisError: metrics.redisError });
  const names = ownNames(config, logger);
  const namespaces = new ChannelNamespaces(config.namespaces);
  const channels = createChannelService({ stream: backends.stream, presence: backends.presence, namespaces });
  // Built first: its Host and Origin checks are shared by every route and by the auth service.
  const admission = buildAdmission(config, names, clientIp, logger, metrics);

  app.use(clientIps.middleware, unlessUpgraded(requestId({ limitLength: 128 })), requestLog(logger, clientIp));
  app.use(
    unlessUpgraded(
      secureHeaders({
        contentSecurityPolicy: CSP,
        strictTransportSecurity: config.tls ? 'max-age=31536000; includeSubDomains' : false,
        xFrameOptions: 'DENY',
        referrerPolicy: 'no-referrer',
      }),
    ),
  );
  // DNS rebinding: only the server's own names are served (421 otherwise), on every route but the probes.
  app.use(hostCheck(admission.origins, clientIp, logger));
  // Before the auth routes and the gateway, so a draining instance starts nothing it would cut.
  app.use(drainGate(() => draining, [WS_PATH, '/auth/login', '/auth/ticket']));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Ready means a new socket can authenticate here: not draining, shared state reachable, and the
  // auth service's breaker closed (it probes by itself, so an open breaker does not wait for traffic).
  app.get('/readyz', (c) => {
    const status = draining
      ? 'draining'
      : !backends.healthy() || !revocations.listening
        ? 'backend_unavailable'
        : verifier.state !== 'closed'
          ? 'auth_unavailable'
          : 'ready';
    return c.json({ status, backend: backends.kind }, status === 'ready' ? 200 : 503);
  });

  // Logouts only arrive once the server is listening, so `revocations` (built below) exists by then.
  const onLogout = ({ sid }: { sid: string }) => void revocations.revoke({ sid }, 'logout').catch(() => {});
  const verifier = buildVerifier(config, {
    app,
    backends,
    clientIp,
    origins: admission.origins,
    logger,
    onLogout,
    onBreakerState: metrics.breakerChanged,
    sha256: platform.sha256,
  });
  // Local subscribers per channel, for the server API's `channels`.
  const subscribers = new SubscriberCounts();
  const hooks = buildHooks(config, logger, platform.post, metrics);
  const gateway = createGateway({
    verifier,
    admission,
    userConnections: backends.userConnections,
    runtime: platform.socketRuntime,
    path: WS_PATH,
    clientIp,
    logger,
    observer: metrics,
    handlers: {
      ...builtinHandlers,
      ...channelHandlers({
        stream: backends.stream,
        presence: backends.presence,
        namespaces,
        events: backends.broker,
        service: channels,
        maxChannelsPerConnection: config.maxChannels,
        observer: metrics,
        logger: logger.child({ component: 'channels' }),
        ...(hooks.authorizer === undefined ? {} : { authorizer: hooks.authorizer }),
        onSubscribers: subscribers.set,
        // Deliveries through the runtime's own fan-out (Bun's topics; one frame for all on Node).
        fanout: createFanout(platform.socketRuntime.topics, config.maxBuffered, metrics),
      }),
      ...(hooks.rpc === undefined ? {} : { rpc: hooks.rpc }),
    },
    limits: {
      authDeadlineMs: config.authTimeout,
      verifyTimeoutMs: config.verifyTimeout,
      maxAuthFrameBytes: config.maxAuthFrame,
      maxMessageBytes: config.maxMessage,
      messageRate: config.messageRate,
      maxBufferedBytes: config.maxBuffered,
      maxConnectionsPerUser: config.maxConnectionsPerUser,
      sessionWarningMs: config.sessionWarning,
    },
  });
  const revocations = createRevocationBus(backends.broker, gateway, logger);
  const api = buildServerApi(config, {
    channels,
    broker: backends.broker,
    gateway,
    revocations,
    localChannels: () => subscribers.entries(),
    runtime: platform,
    clientIp,
    clientIpMiddleware: clientIps.middleware,
    logger,
    onApiAnswered: metrics.apiCalled,
  });
  app.route('/', gateway.app);
  if (api.routes !== null) app.route('/', api.routes);
  if (config.adminToken !== undefined)
    app.route('/', adminRoutes(config.adminToken, gateway, revocations, logger.child({ component: 'admin' })));
  if (config.metricsToken !== undefined)
    app.route('/', protectedMetricsRoutes(metrics, config.metricsToken, logger.child({ component: 'metrics' })));
  app.route(
    '/',
    staticRoutes((name) => platform.readStatic(name)),
  );
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse(); // bearerGuard's 401
    logger.error({ err: error.name, path: c.req.path.slice(0, MAX_LOGGED_PATH), reqId: c.get('requestId') }, 'http.error');
    return c.json({ error: 'internal' }, 500);
  });

  return {
    app,
    gateway,
    metrics,
    api,
    channels,
    setDraining: () => {
      draining = true;
    },
    listeningOn: (port) => names.listeningOn(port),
    close: async () => {
      verifier.close();
      hooks.close();
      await api.close();
      revocations.close();
      await backends.close();
    },
  };
}

/** Host and Origin checks, connection caps and upgrade rate before any upgrade. */
function buildAdmission(
  config: Config,
  names: OwnNames,
  clientIp: (c: Context) => string | null,
  logger: Logger,
  metrics: GatewayMetrics,
): Admission {
  let admission: Admission;
  try {
    admission = createAdmission({
      allowedOrigins: config.allowedOrigins,
      allowMissingOrigin: config.allowMissingOrigin,
      serverNames: names.names,
      maxConnections: config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      upgradeRate: config.upgradeRate,
      clientIp,
      logger,
      onRefused: metrics.upgradeRefused,
    });
  } catch (error) {
    throw new ConfigError('allowed-origins', error instanceof Error ? error.message : 'invalid');
  }
  if (admission.policy.allowsAny)
    logger.warn({}, 'allowed-origins is "*": any web page may open sockets (cross-site WebSocket hijacking is not prevented)');
  return admission;
}

const WS_PATH = '/ws';

/**
 * A middleware whose work is lost on an accepted WebSocket upgrade run only when the upgrade is
 * refused: the request id and the security headers (CSP, frame and sniffing rules) would be written
 * on a Response that node-server discards for its 101 (a UUID and a dozen validated header writes
 * per connect). A refusal (403, 429, 503…) is an ordinary answer and gets them like any other.
 */
function unlessUpgraded(middleware: MiddlewareHandler): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.path !== WS_PATH || c.req.header('upgrade') === undefined) return middleware(c, next);
    await next();
    if (c.res.status !== ACCEPTED_UPGRADE) await middleware(c, async () => {});
  };
}
/** What the Node and Bun upgrade helpers answer for an accepted upgrade (the runtime writes the 101). */
const ACCEPTED_UPGRADE = 200;
/** The path is the client's: logged, but not a megabyte of it. */
const MAX_LOGGED_PATH = 256;
const isStaticPath = (path: string) => path === '/' || Object.hasOwn(staticFiles, path.slice(1));

/**
 * One `http.request` line per non-static request at debug level: request id, client IP, method,
 * path, status and duration. Never headers (cookies and Authorization ride there) nor the query string.
 */
function requestLog(logger: Logger, clientIp: (c: Context) => string | null): MiddlewareHandler {
  const enabled = () => logger.isLevelEnabled?.('debug') !== false;
  return async (c, next) => {
    if (!enabled()) return next(); // off by default: no clock reads or fields per request
    const started = performance.now();
    await next();
    if (isStaticPath(c.req.path)) return;
    const ms = Math.round((performance.now() - started) * 10) / 10;
    logger.debug(
      {
        reqId: c.get('requestId'),
        ip: clientIp(c),
        method: c.req.method,
        path: c.req.path.slice(0, MAX_LOGGED_PATH),
        status: c.res.status,
        ms,
      },
      'http.request',
    );
  };
}
