/**
 * The backend hooks' pieces on fakes: what a hook call accepts as an answer (only a 200 with the
 * contract's JSON, within the size bound), the ChannelAuthorizer's decisions, the rpc handler's
 * replies, and the startup checks that keep a proxied namespace from running without its hook.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideAccess, refusalReply } from '../../src/channels/authorizer.ts';
import { loadConfig, ConfigError, type Config } from '../../src/config/index.ts';
import type { HandlerContext } from '../../src/core/handler.ts';
import { createBackendHook, type HookResult } from '../../src/hooks/backend-hook.ts';
import { hookAuthorizer } from '../../src/hooks/channel-authorizer.ts';
import { rpcHandler } from '../../src/hooks/rpc.ts';
import type { RpcHookAnswer } from '../../src/hooks/schemas.ts';
import { ChannelHookAnswer } from '../../src/hooks/schemas.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import type { OutboundMessage } from '../../src/protocol/messages.ts';
import { buildHooks } from '../../src/server/hooks.ts';

const SECRET = 'hook-secret-0123456789abcdef0123456789ab';
const identity = { sub: 'alice', exp: 2_000_000_000, claims: { sid: 's1', subscribe: ['chat:*'] } };

function hookWith(respond: (request: Request) => Response | Promise<Response>, maxAnswerBytes = 1024) {
  const seen: Request[] = [];
  const hook = createBackendHook({
    name: 'test',
    url: 'http://backend.test/hook',
    secret: SECRET,
    answer: ChannelHookAnswer,
    maxAnswerBytes,
    timeoutMs: 200,
    maxInFlight: 4,
    failureThreshold: 100,
    coolDownMs: 1000,
    fetch: async (url, init) => {
      const request = new Request(url, init);
      seen.push(request);
      return respond(request);
    },
  });
  return { hook, seen };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('a backend hook call', () => {
  it('POSTs JSON with the secret as a bearer token; a 200 with the contract’s answer is the answer', async () => {
    const { hook, seen } = hookWith(() => json({ allow: true, info: { name: 'A' } }));
    assert.deepEqual(await hook.call({ type: 'subscribe', channel: 'room:1' }), {
      kind: 'answer',
      body: { allow: true, info: { name: 'A' } },
    });
    assert.equal(seen[0]!.method, 'POST');
    assert.equal(seen[0]!.headers.get('authorization'), `Bearer ${SECRET}`);
    assert.equal(seen[0]!.headers.get('content-type'), 'application/json');
    assert.deepEqual(await seen[0]!.json(), { type: 'subscribe', channel: 'room:1' });
  });

  it('anything else is unavailable, never an answer: other statuses, redirects, bad JSON, the wrong shape, too large, a throw, a hang', async () => {
    const cases: [string, () => Response | Promise<Response>][] = [
      ['status_500', () => json({ allow: true }, 500)],
      ['status_401', () => json({ allow: true }, 401)],
      ['status_302', () => new Response(null, { status: 302, headers: { location: 'http://elsewhere.test/' } })],
      ['status_204', () => new Response(null, { status: 204 })],
      ['bad_answer', () => new Response('{"allow": tru', { status: 200 })],
      ['bad_answer', () => json({ allow: 'yes' })],
      ['bad_answer', () => json({ allow: false })], // a deny needs a reason
      ['bad_answer', () => json({ allow: false, reason: 'Not A Code' })],
      ['bad_answer', () => json({ allow: true, info: { big: 'x'.repeat(2000) } }, 200)],
      ['bad_answer', () => new Response(new Uint8Array([0xff, 0xfe]), { status: 200 })],
      ['answer_too_large', () => json({ allow: true, info: { pad: 'x'.repeat(900) } }, 200, { 'content-length': '5000' })],
      ['unreachable', () => Promise.reject(new TypeError('fetch failed'))],
      ['timeout', () => new Promise<Response>(() => {})],
    ];
    for (const [reason, respond] of cases) {
      const { hook } = hookWith(respond, 4096);
      const result = await hook.call({ type: 'subscribe' });
      assert.equal(result.kind, 'unavailable', reason);
      assert.equal((result as { reason: string }).reason, reason);
    }
  });

  it('a streamed answer past the bound is cut off (answer_too_large), without a Content-Length', async () => {
    const { hook } = hookWith(
      () =>
        new Response(
          new ReadableStream({
            pull(controller) {
              controller.enqueue(new TextEncoder().encode('x'.repeat(512)));
            },
          }),
          { status: 200 },
        ),
      1024,
    );
    assert.deepEqual(await hook.call({}), { kind: 'unavailable', reason: 'answer_too_large' });
  });
});

describe('the ChannelAuthorizer over the hooks', () => {
  const fixed = (result: HookResult<ReturnType<typeof ChannelHookAnswer.parse>>) => ({ call: async () => result });

  it('decides only the actions its namespace proxies; the claims decide elsewhere', async () => {
    const proxy = { 'sub:x': 'subscribe', 'pub:x': 'publish', 'both:x': 'both' } as Record<string, 'subscribe' | 'publish' | 'both'>;
    const authorizer = hookAuthorizer({
      proxyOf: (channel) => proxy[channel] ?? 'off',
      subscribe: fixed({ kind: 'answer', body: { allow: false, reason: 'nope' } }),
      publish: fixed({ kind: 'answer', body: { allow: false, reason: 'nope' } }),
    });
    assert.deepEqual(
      ['sub:x', 'pub:x', 'both:x', 'chat:x'].map((c) => [authorizer.decides('subscribe', c), authorizer.decides('publish', c)]),
      [
        [true, false],
        [false, true],
        [true, true],
        [false, false],
      ],
    );
    const request = { action: 'subscribe' as const, channel: 'chat:x', identity, connectionId: 'c1' };
    assert.deepEqual(decideAccess(authorizer, request), { kind: 'allow' }, 'the claims allow chat:* (synchronously)');
    assert.deepEqual(await decideAccess(authorizer, { ...request, channel: 'sub:x' }), { kind: 'deny', reason: 'nope' });
  });

  it('allow carries info for a subscribe only; unavailable stays unavailable (with retryAfterMs); a missing hook is unavailable', async () => {
    const allow = hookAuthorizer({
      proxyOf: () => 'both',
      subscribe: fixed({ kind: 'answer', body: { allow: true, info: { n: 1 } } }),
      publish: fixed({ kind: 'answer', body: { allow: true, info: { n: 1 } } }),
    });
    const base = { identity, connectionId: 'c1', channel: 'r:1' };
    assert.deepEqual(await allow.authorize({ ...base, action: 'subscribe' }), { kind: 'allow', info: { n: 1 } });
    assert.deepEqual(await allow.authorize({ ...base, action: 'publish', data: 1 }), { kind: 'allow' });
    const down = hookAuthorizer({
      proxyOf: () => 'both',
      subscribe: fixed({ kind: 'unavailable', reason: 'circuit_open', retryAfterMs: 900 }),
    });
    assert.deepEqual(await down.authorize({ ...base, action: 'subscribe' }), { kind: 'unavailable', retryAfterMs: 900 });
    assert.deepEqual(await down.authorize({ ...base, action: 'publish' }), { kind: 'unavailable' });
  });

  it('refusal replies: forbidden with the backend’s reason and words, or backend_unavailable; none for an allow', () => {
    assert.equal(refusalReply({ kind: 'allow' }, 1), null);
    assert.deepEqual(refusalReply({ kind: 'deny' }, 1), { type: 'error', id: 1, code: 'forbidden' });
    assert.deepEqual(refusalReply({ kind: 'deny', reason: 'banned', message: 'go away' }, 'x'), {
      type: 'error',
      id: 'x',
      code: 'forbidden',
      reason: 'banned',
      message: 'go away',
    });
    assert.deepEqual(refusalReply({ kind: 'unavailable', retryAfterMs: 5 }, undefined), {
      type: 'error',
      code: 'backend_unavailable',
      retryAfterMs: 5,
    });
  });
});

describe('the rpc handler', () => {
  function context() {
    const sent: OutboundMessage[] = [];
    const closers: (() => void)[] = [];
    const ctx: HandlerContext = {
      connectionId: 'conn-1',
      identity,
      logger: silentLogger,
      closed: false,
      send: (message) => void sent.push(message),
      onClose: (callback) => void closers.push(callback),
    };
    return { ctx, sent, closers };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('forwards identity, claims, method and data; answers by id; does not hold the socket’s next messages', async () => {
    const calls: unknown[] = [];
    let release: (value: HookResult<ReturnType<typeof RpcHookAnswer.parse>>) => void = () => {};
    const handler = rpcHandler({
      hook: {
        call: (body) => {
          calls.push(body);
          return new Promise((resolve) => (release = resolve));
        },
      },
      rate: { perSecond: 10, burst: 10 },
    });
    const { ctx, sent } = context();
    const returned = handler({ type: 'rpc', id: 9, method: 'orders.get', data: { id: 1 } }, ctx);
    assert.equal(returned, undefined, 'not a promise: the socket’s next messages are not held back');
    assert.deepEqual(calls, [
      { type: 'rpc', connectionId: 'conn-1', sub: 'alice', claims: identity.claims, method: 'orders.get', data: { id: 1 } },
    ]);
    release({ kind: 'answer', body: { data: { total: 3 } } });
    await settle();
    assert.deepEqual(sent, [{ type: 'rpc', id: 9, data: { total: 3 } }]);
  });

  it('error replies: rpc_error with the backend’s code, backend_unavailable, rate_limited past the rate and past the pending cap', async () => {
    let next: HookResult<ReturnType<typeof RpcHookAnswer.parse>> = {
      kind: 'answer',
      body: { error: { code: 'not_found', message: 'no order' } },
    };
    const pending: (() => void)[] = [];
    const handler = rpcHandler({
      hook: { call: () => new Promise((resolve) => pending.push(() => resolve(next))) },
      rate: { perSecond: 1, burst: 3 },
      maxPendingPerConnection: 2,
      now: () => 1_000,
    });
    const { ctx, sent, closers } = context();
    handler({ type: 'rpc', id: 1, method: 'm' }, ctx);
    handler({ type: 'rpc', id: 2, method: 'm' }, ctx);
    handler({ type: 'rpc', id: 3, method: 'm' }, ctx); // a token, but two are pending
    handler({ type: 'rpc', id: 4, method: 'm' }, ctx); // no token left
    pending.shift()!();
    next = { kind: 'unavailable', reason: 'circuit_open', retryAfterMs: 700 };
    pending.shift()!();
    await settle();
    assert.deepEqual(sent, [
      { type: 'error', id: 3, code: 'rate_limited', retryAfterMs: 100 },
      { type: 'error', id: 4, code: 'rate_limited', retryAfterMs: 1000 },
      { type: 'error', id: 1, code: 'rpc_error', reason: 'not_found', message: 'no order' },
      { type: 'error', id: 2, code: 'backend_unavailable', retryAfterMs: 700 },
    ]);
    assert.equal(closers.length, 1, 'its per-connection state is released with the socket');
  });
});

describe('hooks at startup', () => {
  const config = (argv: string[], namespaces?: Record<string, unknown>): Config => {
    const file = namespaces === undefined ? undefined : { path: 'c.json', text: JSON.stringify({ namespaces }) };
    const result = loadConfig(file ? ['--config', 'c.json', ...argv] : argv, {}, file);
    assert.equal(result.kind, 'config');
    return (result as { config: Config }).config;
  };
  const refused = (c: Config, option: string) =>
    assert.throws(
      () => buildHooks(c, silentLogger),
      (e: unknown) => e instanceof ConfigError && e.option === option,
    );

  it('a proxied namespace without its hook URL, or a hook without --hook-secret, stops the server (exit 2)', () => {
    refused(config([], { room: { proxy: true } }), 'hook-subscribe-url');
    refused(config(['--hook-subscribe-url', 'http://b.test/s', '--hook-secret', SECRET], { room: { proxy: true } }), 'hook-publish-url');
    refused(
      config(['--hook-publish-url', 'http://b.test/p', '--hook-secret', SECRET], {
        room: { proxy: 'publish' },
        r2: { proxy: 'subscribe' },
      }),
      'hook-subscribe-url',
    );
    refused(config(['--hook-rpc-url', 'http://b.test/rpc']), 'hook-secret');
  });

  it('nothing set: no rpc handler, no authorizer; set: both', () => {
    assert.deepEqual(Object.keys(buildHooks(config([]), silentLogger)), ['close']);
    const hooks = buildHooks(
      config(['--hook-rpc-url', 'http://b.test/rpc', '--hook-subscribe-url', 'http://b.test/s', '--hook-secret', SECRET], {
        room: { proxy: 'subscribe' },
      }),
      silentLogger,
    );
    assert.equal(typeof hooks.rpc, 'function');
    assert.equal(hooks.authorizer?.decides('subscribe', 'room:1'), true);
    assert.equal(hooks.authorizer?.decides('publish', 'room:1'), false);
    hooks.close();
  });

  it('the namespace option: true, false, subscribe, publish (and nothing else)', () => {
    assert.deepEqual(
      ['true', 'false', 'subscribe', 'publish'].map(
        (p) => config([], { a: { proxy: p === 'true' ? true : p === 'false' ? false : p } }).namespaces.a!.proxy,
      ),
      ['both', 'off', 'subscribe', 'publish'],
    );
    assert.throws(() => config([], { a: { proxy: 'sometimes' } }), /namespaces\.a\.proxy/);
  });
});
