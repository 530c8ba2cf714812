/**
 * Builds the server's Hono app from validated config: embedded auth service (unless an external
 * one is configured), the gateway, static pages, health endpoints and security headers.
 * Concrete stores and verifiers are chosen here, at the entry point, and passed in.
 */
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { createAuthService, parseDemoUsers } from '../auth-service/index.ts';
import { HttpVerifier } from '../auth/verifiers/http.ts';
import { withResilience } from '../auth/verifiers/resilient.ts';
import type { Verifier } from '../auth/verifier.ts';
import type { Config } from '../config/index.ts';
import { ConfigError } from '../config/index.ts';
import { CloseCodes } from '../core/close-codes.ts';
import { createAdmission, type Admission } from '../core/admission/index.ts';
import { createGateway, type Gateway } from '../core/gateway.ts';
import type { Logger } from '../core/logger.ts';
import { MemorySessionStore } from '../store/memory-session-store.ts';
import { MemoryTicketStore } from '../store/memory-ticket-store.ts';
import { adminRoutes } from './admin.ts';
import type { Platform } from './platform.ts';
import { staticRoutes } from './static-files.ts';

export interface AssembledServer {
  readonly app: Hono;
  readonly gateway: Gateway;
  /** Flip readiness to 503 while draining. */
  setDraining(): void;
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
  const closers: (() => Promise<void>)[] = [];

  app.use(
    secureHeaders({
      contentSecurityPolicy: CSP,
      strictTransportSecurity: config.tls ? 'max-age=31536000; includeSubDomains' : false,
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
    }),
  );
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => (draining ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ready' })));

  // The embedded auth service revokes sockets on logout. Logouts only arrive once the server is
  // listening, so the gateway (built below, from the verifier) exists by then.
  const onLogout = ({ sid }: { sid: string }) => gateway.revoke({ sid }, CloseCodes.sessionRevoked, 'logout');
  const verifier = buildVerifier(config, platform, logger, app, closers, onLogout);
  const gateway = createGateway({
    verifier,
    admission: buildAdmission(config, platform, logger),
    upgradeWebSocket: platform.upgradeWebSocket,
    clientIp: (c) => platform.clientIp(c),
    logger,
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
  app.route('/', gateway.app);
  if (config.adminToken !== undefined) app.route('/', adminRoutes(config.adminToken, gateway, logger.child({ component: 'admin' })));
  app.route('/', staticRoutes((name) => platform.readStatic(name)));
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((error, c) => {
    logger.error({ err: error.name, path: c.req.path }, 'http.error');
    return c.json({ error: 'internal' }, 500);
  });

  return {
    app,
    gateway,
    setDraining: () => {
      draining = true;
    },
    close: async () => {
      for (const close of closers) await close();
    },
  };
}

/** The embedded auth service mounted on `app`, or the HTTP verifier for an external one. */
function buildVerifier(
  config: Config,
  platform: Platform,
  logger: Logger,
  app: Hono,
  closers: (() => Promise<void>)[],
  onLogout: (event: { sid: string }) => void,
): Verifier {
  if (config.authVerifyUrl !== undefined) {
    if (config.authVerifySecret === undefined) {
      throw new ConfigError('auth-verify-secret', 'required when --auth-verify-url is set');
    }
    return resilient(new HttpVerifier({ url: config.authVerifyUrl, secret: config.authVerifySecret, timeoutMs: config.verifyTimeout }), config, logger);
  }
  const users = parseDemoUsers(config.demoUsers);
  const secret = config.authVerifySecret ?? randomSecret();
  const tickets = new MemoryTicketStore();
  const sessions = new MemorySessionStore();
  closers.push(() => tickets.close(), () => sessions.close());
  const auth = createAuthService({
    users,
    verifySecret: secret,
    tickets,
    sessions,
    ticketTtlMs: config.ticketTtl,
    sessionTtlMs: config.sessionTtl,
    secureCookies: config.tls,
    clientIp: (c) => platform.clientIp(c),
    logger,
    onLogout,
    loginRate: config.loginRate,
    ticketRate: config.ticketRate,
  });
  app.route('/', auth.app);
  logger.warn({ users: [...users.keys()] }, 'embedded demo auth service active: do not use its demo credentials in production');
  // In-process: the embedded service is called through its own HTTP handler (the secret is still checked).
  const inProcess = new HttpVerifier({ url: 'http://embedded.invalid/auth/verify', secret, timeoutMs: config.verifyTimeout, fetch: (request) => auth.app.fetch(request) });
  return resilient(inProcess, config, logger);
}

/** Origin allowlist, connection caps and upgrade rate before any upgrade. */
function buildAdmission(config: Config, platform: Platform, logger: Logger): Admission {
  let admission: Admission;
  try {
    admission = createAdmission({
      allowedOrigins: config.allowedOrigins,
      allowMissingOrigin: config.allowMissingOrigin,
      maxConnections: config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      upgradeRate: config.upgradeRate,
      clientIp: (c) => platform.clientIp(c),
      logger,
    });
  } catch (error) {
    throw new ConfigError('allowed-origins', error instanceof Error ? error.message : 'invalid');
  }
  if (admission.policy.allowsAny) logger.warn({}, 'allowed-origins is "*": any web page may open sockets (cross-site WebSocket hijacking is not prevented)');
  return admission;
}

/** In-flight cap and circuit breaker around the auth service: fails fast with 1013, never open. */
function resilient(inner: Verifier, config: Config, logger: Logger): Verifier {
  return withResilience(inner, {
    maxInFlight: config.maxVerifications,
    failureThreshold: config.breakerThreshold,
    coolDownMs: config.breakerCooldown,
    timeoutMs: config.verifyTimeout,
    onStateChange: (state) => logger.warn({ state }, 'breaker.state'),
  });
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
