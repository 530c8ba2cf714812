/**
 * The verifier the gateway uses: the embedded auth service (mounted on the app) or an external
 * one over HTTP, either way behind the in-flight cap and circuit breaker. The breaker probes the
 * service itself (a random ticket: any definite answer proves it answers), and the embedded
 * service's breaker probes at once when its Redis connection comes back.
 */
import type { Context, Hono } from 'hono';
import { createAuthService, parseDemoUsers } from '../auth-service/index.ts';
import { randomToken, type Sha256 } from '../auth-service/crypto.ts';
import type { Verifier } from '../auth/verifier.ts';
import type { OriginGuard } from '../core/admission/index.ts';
import { HttpVerifier, readIdentity } from '../auth/verifiers/http.ts';
import { withResilience, type BreakerState, type ResilientVerifier } from '../auth/verifiers/resilient.ts';
import { ConfigError, type Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { Backends } from './backends.ts';

export interface VerifierDeps {
  readonly app: Hono;
  readonly backends: Backends;
  readonly clientIp: (c: Context) => string | null;
  /** The upgrade's Host and Origin checks: login, ticket and logout answer the same pages. */
  readonly origins: OriginGuard;
  readonly logger: Logger;
  readonly onLogout: (event: { sid: string }) => void;
  /** Every circuit breaker transition (metrics). */
  readonly onBreakerState?: (state: BreakerState) => void;
  /** The runtime's native SHA-256 (Platform.sha256), if it has one. */
  readonly sha256?: Sha256 | undefined;
}

/**
 * What the embedded demo users may do on channels (an external auth service returns its own
 * claims). One frozen copy: every socket's identity shares its arrays instead of holding its own.
 */
const DEMO_CLAIMS = Object.freeze({ subscribe: Object.freeze(['chat:*', 'user:{sub}']), publish: Object.freeze(['chat:*']) });
const demoClaims = () => DEMO_CLAIMS;

export function buildVerifier(config: Config, deps: VerifierDeps): ResilientVerifier {
  if (config.authVerifyUrl !== undefined) {
    if (config.authVerifySecret === undefined) throw new ConfigError('auth-verify-secret', 'required when --auth-verify-url is set');
    return resilient(new HttpVerifier({ url: config.authVerifyUrl, secret: config.authVerifySecret }), config, deps);
  }
  if (config.sessionTtl > config.sessionMaxAge) throw new ConfigError('session-ttl', 'must not be longer than --session-max-age');
  const users = demoUsers(config.demoUsers);
  const secret = config.authVerifySecret ?? randomToken();
  const auth = createAuthService({
    users,
    verifySecret: secret,
    tickets: deps.backends.tickets,
    sessions: deps.backends.sessions,
    ticketTtlMs: config.ticketTtl,
    sessionTtlMs: config.sessionTtl,
    sessionMaxAgeMs: config.sessionMaxAge,
    origins: deps.origins,
    secureCookies: config.tls,
    clientIp: deps.clientIp,
    logger: deps.logger,
    onLogout: deps.onLogout,
    loginRate: config.loginRate,
    ticketRate: config.ticketRate,
    claimsFor: demoClaims,
    ...(deps.sha256 === undefined ? {} : { sha256: deps.sha256 }),
  });
  deps.app.route('/', auth.app);
  deps.logger.warn({ users: [...users.keys()] }, 'embedded demo auth service active: do not use its demo credentials in production');
  // In-process: the embedded service's verify logic is called directly. Going through its HTTP
  // handler (Request, routing, secret digests, Response) cost ~30 % of the connect path.
  const inProcess: Verifier = {
    async verify(request) {
      const outcome = await auth.verify(request);
      if (!outcome.ok) return { kind: 'rejected', reason: outcome.reason };
      const identity = readIdentity(outcome.body);
      return identity ? { kind: 'ok', identity } : { kind: 'unavailable', reason: 'bad_response' };
    },
  };
  const breaker = resilient(inProcess, config, deps);
  // The embedded service's only dependency is shared state: once Redis is back, so is the service.
  deps.backends.onReconnected(() => breaker.retryNow());
  return breaker;
}

/** In-flight cap and circuit breaker around the auth service: fails fast with 1013, never open. */
function resilient(inner: Verifier, config: Config, { logger, onBreakerState }: VerifierDeps): ResilientVerifier {
  return withResilience(inner, {
    maxInFlight: config.maxVerifications,
    failureThreshold: config.breakerThreshold,
    coolDownMs: config.breakerCooldown,
    timeoutMs: config.verifyTimeout,
    // A ticket nobody was ever given: the service answers `rejected` when it works.
    probe: () => ({ ticket: randomToken(), origin: null, ip: null }),
    onStateChange: (state) => {
      logger.warn({ state }, 'breaker.state');
      onBreakerState?.(state);
    },
  });
}

/** `--demo-users` is secret: the error names the entry's position, never its text. */
function demoUsers(spec: string): Map<string, string> {
  try {
    return parseDemoUsers(spec);
  } catch (error) {
    throw new ConfigError('demo-users', (error instanceof Error ? error.message : 'invalid').replace(/^demo users: /, ''));
  }
}
