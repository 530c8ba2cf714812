import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Hono, type Context } from 'hono';
import { clientIpResolver, createClientIp } from '../../src/server/client-ip.ts';

async function resolve(peer: string | null, xff: string | undefined, trusted: string[]): Promise<string | null> {
  const app = new Hono();
  const resolver = clientIpResolver((c: Context) => c.req.header('x-test-peer') ?? peer, trusted);
  let seen: string | null = 'unset';
  app.get('/', (c) => {
    seen = resolver(c);
    return c.text('ok');
  });
  const headers: Record<string, string> = {};
  if (xff !== undefined) headers['x-forwarded-for'] = xff;
  await app.request('/', { headers });
  return seen;
}

it('ignores X-Forwarded-For unless the peer is a trusted proxy', async () => {
  assert.equal(await resolve('203.0.113.9', '1.2.3.4', []), '203.0.113.9');
  assert.equal(await resolve('203.0.113.9', '1.2.3.4', ['127.0.0.1']), '203.0.113.9');
});

it('takes the rightmost hop that is not a trusted proxy', async () => {
  assert.equal(await resolve('127.0.0.1', '1.2.3.4', ['127.0.0.1']), '1.2.3.4');
  assert.equal(await resolve('::ffff:127.0.0.1', 'spoofed, 198.51.100.7', ['127.0.0.1']), '198.51.100.7');
  assert.equal(await resolve('127.0.0.1', '198.51.100.7, 10.0.0.2', ['127.0.0.1', '10.0.0.2']), '198.51.100.7');
});

it('falls back to the peer on a missing or malformed header', async () => {
  assert.equal(await resolve('127.0.0.1', undefined, ['127.0.0.1']), '127.0.0.1');
  assert.equal(await resolve('127.0.0.1', 'not-an-ip', ['127.0.0.1']), '127.0.0.1');
  assert.equal(await resolve(null, '1.2.3.4', ['127.0.0.1']), null);
});

it('resolves once, before a later middleware replaces the request, and every reader sees that value', async () => {
  const app = new Hono();
  let calls = 0;
  // Like Bun's requestIP(): only the Request the runtime created has a peer.
  const original = new WeakSet<Request>();
  const ips = createClientIp((c: Context) => {
    calls++;
    return original.has(c.req.raw) ? '203.0.113.9' : null;
  });
  const seen: (string | null)[] = [];
  app.use(ips.middleware);
  app.use(async (c, next) => {
    c.req.raw = new Request(c.req.raw); // what hono's bodyLimit does for a chunked body
    await next();
  });
  app.get('/', (c) => {
    seen.push(ips.of(c), ips.of(c));
    return c.text('ok');
  });
  const request = new Request('http://localhost/');
  original.add(request);
  await app.fetch(request);
  assert.deepEqual(seen, ['203.0.113.9', '203.0.113.9']);
  assert.equal(calls, 1);
});

it('refuses to answer for a request the middleware did not see (a wiring bug, not an unknown IP)', async () => {
  const ips = createClientIp(() => '203.0.113.9');
  const app = new Hono();
  app.get('/', (c) => c.text(String(ips.of(c))));
  app.onError((error, c) => c.text(error.message, 500));
  const res = await app.request('/');
  assert.equal(res.status, 500);
  assert.match(await res.text(), /before the client-IP middleware/);
});
