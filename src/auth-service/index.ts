/** The embedded (simulated third-party) auth service: its public face. */
import { resolveOptions } from './options.ts';
import type { AuthService, AuthServiceOptions } from './options.ts';
import { createRoutes } from './routes.ts';
import { endSession } from './sessions.ts';
import { verifyTicketAudited } from './tickets.ts';

export type { AuthService, AuthServiceOptions } from './options.ts';
export { AUTH_SERVICE_DEFAULTS } from './options.ts';
export { parseDemoUsers } from './credentials.ts';
export { SESSION_COOKIE } from './sessions.ts';
export type { RejectReason, VerifiedBody } from './tickets.ts';

/**
 * The embedded, simulated third-party auth service: login sessions, ticket issue and the
 * secret-protected verify endpoint the gateway calls. Routes live under /auth/ in `app`.
 */
export function createAuthService(options: AuthServiceOptions): AuthService {
  const resolved = resolveOptions(options);
  const o = { ...resolved, logger: resolved.logger.child({ component: 'auth-service' }) };
  return {
    app: createRoutes(o),
    logout: (sid) => endSession(o, sid),
    verify: (request) => verifyTicketAudited(o, request),
  };
}
