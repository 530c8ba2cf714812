/** The bearer-token check shared by /auth/verify, admin, /metrics and the server API: every key of a rotation works, every other header is the same 401. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bearerGuard } from '../../src/auth/bearer-guard.ts';

const A = 'guard-key-A-0123456789abcdef0123456789';
const B = 'guard-key-B-0123456789abcdef0123456789';

function app(tokens: string | string[]) {
  const denied: string[] = [];
  const a = new Hono();
  a.use(
    '*',
    bearerGuard(tokens, (c) => void denied.push(c.req.path), { error: { code: 'unauthorized' } }),
  );
  a.get('/x', (c) => c.text('ok'));
  a.onError((error) => (error instanceof HTTPException ? error.getResponse() : new Response('bug', { status: 500 })));
  const get = async (authorization?: string) => {
    const res = await a.request('/x', authorization === undefined ? {} : { headers: { authorization } });
    return { status: res.status, body: await res.text(), challenge: res.headers.get('www-authenticate') };
  };
  return { get, denied };
}

it('accepts each configured token, and only those', async () => {
  const { get, denied } = app([A, B]);
  for (const key of [A, B]) assert.deepEqual(await get(`Bearer ${key}`), { status: 200, body: 'ok', challenge: null });
  assert.equal((await get(`bearer ${A}`)).status, 200, 'the scheme is case-insensitive');
  const refusals = [
    undefined,
    '',
    'Bearer',
    `Basic ${A}`,
    `Bearer ${A}x`,
    `Bearer ${A.slice(0, -1)}`,
    'Bearer not a token!',
    `Bearer ${A} ${B}`,
  ];
  for (const header of refusals) {
    const answer = await get(header);
    assert.equal(answer.status, 401, String(header));
    assert.equal(answer.body, '{"error":{"code":"unauthorized"}}');
    assert.equal(answer.challenge, 'Bearer');
  }
  assert.equal(denied.length, refusals.length);
  assert.deepEqual((await app(A).get(`Bearer ${A}`)).status, 200, 'a single token');
  assert.throws(() => bearerGuard([], () => {}), RangeError);
});
