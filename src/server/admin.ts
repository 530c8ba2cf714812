/**
 * The admin API: connection counts and closing a user's sockets (on every instance). Off unless a token is configured
 * (the routes do not exist then); every call is audit-logged without the token.
 */
import { Hono } from 'hono';
import { bearerGuard } from '../auth/bearer-guard.ts';
import type { Gateway } from '../core/gateway.ts';
import type { Logger } from '../logging/logger.ts';
import type { RevocationBus } from './revocations.ts';

const SUB = /^[\w.@:+-]{1,256}$/;

export function adminRoutes(token: string, gateway: Gateway, revocations: RevocationBus, logger: Logger): Hono {
  const app = new Hono();
  app.use(
    '/admin/*',
    bearerGuard(token, (c) => logger.warn({ path: c.req.path, ok: false }, 'admin.denied')),
  );
  app.get('/admin/connections', (c) => {
    logger.info({ path: c.req.path }, 'admin.connections');
    return c.json({ connections: gateway.connectionCount(), users: gateway.userCount() });
  });
  app.post('/admin/users/:sub/close', async (c) => {
    const sub = c.req.param('sub');
    if (!SUB.test(sub)) return c.json({ error: 'invalid_user' }, 400);
    try {
      const closed = await revocations.revoke({ sub }, 'admin_kick');
      logger.warn({ target: sub, closed }, 'admin.kick');
      return c.json({ closed, instances: 'all' });
    } catch {
      logger.error({ target: sub }, 'admin.kick_partial');
      return c.json({ error: 'unavailable', detail: 'closed on this instance only' }, 503);
    }
  });
  return app;
}
