/**
 * The admin API: connection counts and closing a user's sockets. Off unless a token is configured
 * (the routes do not exist then); every call is audit-logged without the token.
 */
import { Hono } from 'hono';
import { safeEqual } from '../auth-service/crypto.ts';
import { CloseCodes } from '../core/close-codes.ts';
import type { Gateway } from '../core/gateway.ts';
import type { Logger } from '../core/logger.ts';

const SUB = /^[\w.@:+-]{1,256}$/;

export function adminRoutes(token: string, gateway: Gateway, logger: Logger): Hono {
  const app = new Hono();
  app.use('/admin/*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!(await safeEqual(presented, token))) {
      logger.warn({ path: c.req.path, ok: false }, 'admin.denied');
      return c.json({ error: 'unauthorized' }, 401, { 'www-authenticate': 'Bearer' });
    }
    await next();
  });
  app.get('/admin/connections', (c) => {
    logger.info({ path: c.req.path }, 'admin.connections');
    return c.json({ connections: gateway.connectionCount(), users: gateway.userCount() });
  });
  app.post('/admin/users/:sub/close', (c) => {
    const sub = c.req.param('sub');
    if (!SUB.test(sub)) return c.json({ error: 'invalid_user' }, 400);
    const closed = gateway.revoke({ sub }, CloseCodes.kicked, 'admin_kick');
    logger.warn({ target: sub, closed }, 'admin.kick');
    return c.json({ closed });
  });
  return app;
}
