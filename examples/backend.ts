// A tiny application backend for hardened-ws's hooks, which also reaches users through the server
// API: `npx tsx backend.ts` (PORT, default 3001). HOOK_SECRET is the server's --hook-secret; with
// API_KEY (one of the server's --api-key) and API_URL (default http://127.0.0.1:8080) it can publish.
// Run the server with --hook-rpc-url http://127.0.0.1:3001/hooks/rpc (and -subscribe-, -publish-
// for namespaces marked "proxy" in its config file).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { createServerApi } from 'hardened-ws/server-api';

const secret = process.env.HOOK_SECRET;
if (secret === undefined || secret.length < 32) throw new Error('set HOOK_SECRET (≥ 32 characters, the same as the server)');
const api = process.env.API_KEY ? createServerApi({ url: process.env.API_URL ?? 'http://127.0.0.1:8080', key: process.env.API_KEY }) : null;

/** Who is asking: every hook call carries the socket's identity and claims. */
interface Caller {
  connectionId: string;
  sub: string;
  claims: Record<string, unknown>;
}

const app = new Hono();
// Only the server knows the secret (compared in constant time); anything else gets 401.
app.use('/hooks/*', bearerAuth({ token: secret }));

// {"type":"rpc","id","method","data"} from a client: answer {data} or {error:{code,message}}.
app.post('/hooks/rpc', async (c) => {
  const { sub, method, data } = await c.req.json<Caller & { method: string; data: unknown }>();
  switch (method) {
    case 'echo':
      return c.json({ data });
    case 'time':
      return c.json({ data: { now: new Date().toISOString() } });
    case 'notify_me': {
      // The backend reaches the user on every instance: their personal channel, user:{sub}.
      if (api === null) return c.json({ error: { code: 'no_api_key', message: 'the backend has no API_KEY' } });
      await api.publishToUser(sub, { title: 'Hello from the backend', text: String((data as { text?: unknown })?.text ?? 'ping') });
      return c.json({ data: { sent: true } });
    }
    default:
      return c.json({ error: { code: 'unknown_method', message: `no method ${method}` } });
  }
});

// A subscribe in a "proxy" namespace: room:vip is for VIPs; the info shows in presence.
app.post('/hooks/subscribe', async (c) => {
  const { sub, claims, channel } = await c.req.json<Caller & { channel: string }>();
  if (channel === 'room:vip' && claims.vip !== true) return c.json({ allow: false, reason: 'members_only', message: 'VIPs only' });
  return c.json({ allow: true, info: { name: sub.toUpperCase() } });
});

// A client publish in a "proxy" namespace: the backend moderates.
app.post('/hooks/publish', async (c) => {
  const { data } = await c.req.json<Caller & { channel: string; data: unknown }>();
  if (JSON.stringify(data).toLowerCase().includes('spam')) return c.json({ allow: false, reason: 'moderated' });
  return c.json({ allow: true });
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3001), hostname: '127.0.0.1' }, (info) =>
  console.log(`backend listening on http://127.0.0.1:${info.port}`),
);
process.once('SIGTERM', () => server.close());
