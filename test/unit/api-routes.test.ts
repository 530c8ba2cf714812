/**
 * The server API's HTTP contract on fakes (no network): the key first (401, nothing happens, the key
 * never logged), then 404 / 405 / 415 / 413 / 400 in that order, every method's answer valid
 * against its own schema, storage failures as documented codes, and an audit line per call without
 * the key or the body.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiErrors } from '../../src/api/errors.ts';
import { methodHandlers, API_PUBLISHER } from '../../src/api/methods.ts';
import { openApiDocument } from '../../src/api/openapi.ts';
import type { ClusterView, Disconnector } from '../../src/api/ports.ts';
import { apiRoutes } from '../../src/api/routes.ts';
import { methods, type MethodName } from '../../src/api/schemas.ts';
import type { RevocationTarget } from '../../src/core/gateway.ts';
import { FakeChannelService } from '../support/fake-channel-service.ts';
import { spyLogger, type LogEntry } from '../support/spy-logger.ts';

const KEY_A = 'api-key-A-0123456789abcdef0123456789';
const KEY_B = 'api-key-B-0123456789abcdef0123456789';
const SECRET_DATA = 'body-marker-never-in-a-log';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are JSON, checked field by field
type Json = Record<string, any>;

function setup(overrides: { maxBodyBytes?: number; maxDataBytes?: number } = {}) {
  const service = new FakeChannelService();
  const disconnects: { target: RevocationTarget; code: number }[] = [];
  const disconnector: Disconnector = {
    async disconnect(target, code) {
      disconnects.push({ target, code });
      return 2;
    },
  };
  const cluster: ClusterView = {
    async channels({ limit }) {
      return {
        answers: [
          {
            channels: [
              { channel: 'chat:a', subscribers: 3 },
              { channel: 'chat:b', subscribers: 1 },
            ].slice(0, limit),
            truncated: false,
          },
          { channels: [{ channel: 'chat:a', subscribers: 2 }], truncated: false },
        ],
        missing: ['dead-instance'],
      };
    },
    async info() {
      const base = { version: '0.1.0', runtime: 'node', runtimeVersion: 'v20', users: 1 };
      return {
        answers: [
          { ...base, id: 'b', connections: 2, startedAt: '2026-01-02T00:00:00.000Z' },
          { ...base, id: 'a', connections: 3, startedAt: '2026-01-01T00:00:00.000Z' },
        ],
        missing: [],
      };
    },
  };
  const log: LogEntry[] = [];
  const app = apiRoutes({
    keys: [KEY_A, KEY_B],
    maxBodyBytes: overrides.maxBodyBytes ?? 4096,
    handlers: methodHandlers({ channels: service, cluster, disconnector, maxDataBytes: overrides.maxDataBytes ?? 1024, version: '0.1.0' }),
    logger: spyLogger(log),
    clientIp: () => '203.0.113.9',
    openApi: openApiDocument('0.1.0'),
  });
  const call = async (path: string, body: unknown, init: { key?: string | null; type?: string; method?: string; raw?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': init.type ?? 'application/json' };
    const key = init.key === undefined ? KEY_A : init.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const response = await app.request(path, {
      method: init.method ?? 'POST',
      headers,
      body: init.method === 'GET' ? undefined : (init.raw ?? JSON.stringify(body)),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Json) : {} };
  };
  return { app, service, disconnects, log, call };
}

const assertError = (answer: { status: number; json: Json }, status: number, code: string) => {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.equal(answer.json.error?.code, code, JSON.stringify(answer.json));
  assert.equal(typeof answer.json.error?.message, 'string');
  assert.equal(apiErrors[code as keyof typeof apiErrors].status, status, 'the documented status');
};

const noSecretsIn = (log: LogEntry[]) => {
  const text = JSON.stringify(log);
  for (const secret of [KEY_A, KEY_B, 'wrong-key-0123456789abcdef0123456789', SECRET_DATA])
    assert.ok(!text.includes(secret), `${secret.slice(0, 12)}… in the log`);
};

describe('server API routes: the key', () => {
  it('missing, malformed or wrong key → 401 {error:{code:"unauthorized"}}, nothing happens, audit-logged without the key', async () => {
    const { call, service, log } = setup();
    const body = { channel: 'chat:x', data: { text: SECRET_DATA } };
    for (const key of [null, 'wrong-key-0123456789abcdef0123456789', 'not a token!', '']) {
      const answer = await call('/api/publish', body, { key });
      assertError(answer, 401, 'unauthorized');
      assert.equal(answer.headers.get('www-authenticate')?.startsWith('Bearer'), true);
    }
    assert.equal(service.published.length, 0, 'nothing was published');
    const denied = log.filter((e) => e.message === 'api.denied');
    assert.equal(denied.length, 4);
    assert.deepEqual(
      denied.map((e) => [e.level, e.fields.method, e.fields.status, e.fields.code, e.fields.ip]),
      Array(4).fill(['warn', 'publish', 401, 'unauthorized', '203.0.113.9']),
    );
    noSecretsIn(log);
  });

  it('either of the rotated keys works', async () => {
    const { call, service } = setup();
    for (const key of [KEY_A, KEY_B]) assert.equal((await call('/api/publish', { channel: 'chat:x', data: 1 }, { key })).status, 200);
    assert.equal(service.published.length, 2);
  });

  it('the key is checked before the method exists: unknown method without a key → 401, with one → 404', async () => {
    const { call } = setup();
    assertError(await call('/api/nope', {}, { key: null }), 401, 'unauthorized');
    assertError(await call('/api/nope', {}), 404, 'unknown_method');
    assertError(await call('/api/publish/extra', {}), 404, 'unknown_method');
    assertError(await call('/api/__proto__', {}), 404, 'unknown_method');
    assertError(await call('/api/toString', {}), 404, 'unknown_method');
  });
});

describe('server API routes: bad requests', () => {
  it('GET on a method → 405 with Allow: POST', async () => {
    const { call } = setup();
    const answer = await call('/api/info', undefined, { method: 'GET' });
    assertError(answer, 405, 'method_not_allowed');
    assert.equal(answer.headers.get('allow'), 'POST');
  });

  it('a body that is not application/json → 415, not read', async () => {
    const { call, service } = setup();
    assertError(await call('/api/publish', { channel: 'chat:x', data: 1 }, { type: 'text/plain' }), 415, 'unsupported_media_type');
    assert.equal(service.published.length, 0);
  });

  it('a body over --api-max-body → 413, declared or streamed', async () => {
    const { call, app, service, log } = setup({ maxBodyBytes: 1024 });
    const big = { channel: 'chat:x', data: SECRET_DATA.repeat(100) };
    assertError(await call('/api/publish', big), 413, 'body_too_large');
    // Without a Content-Length (a stream): counted as it arrives.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify(big)));
        controller.close();
      },
    });
    const response = await app.request('/api/publish', {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
      body: stream,
      // @ts-expect-error Node's fetch needs duplex for a stream body
      duplex: 'half',
    });
    assert.equal(response.status, 413);
    assert.equal(service.published.length, 0);
    noSecretsIn(log);
  });

  it('not JSON → 400 invalid_json; wrong shape → 400 invalid_request naming the field; bad channel → 400 invalid_channel', async () => {
    const { call, service } = setup();
    assertError(await call('/api/publish', undefined, { raw: '{"channel":' }), 400, 'invalid_json');
    assertError(await call('/api/publish', undefined, { raw: '\xff' }), 400, 'invalid_json');
    const noData = await call('/api/publish', { channel: 'chat:x' });
    assertError(noData, 400, 'invalid_request');
    assert.match(noData.json.error.message, /^data: /);
    assertError(await call('/api/publish', { channel: 'chat:x', data: 1, extra: true }), 400, 'invalid_request');
    assertError(await call('/api/publish', [1, 2]), 400, 'invalid_request');
    for (const channel of ['', 'has space', 'x'.repeat(129), '$hws.control', 'a/b', 42])
      assertError(await call('/api/publish', { channel, data: 1 }), 400, 'invalid_channel');
    assertError(await call('/api/broadcast', { channels: ['chat:a', 'bad channel'], data: 1 }), 400, 'invalid_channel');
    assertError(await call('/api/broadcast', { channels: ['chat:a', 'chat:a'], data: 1 }), 400, 'invalid_request');
    assertError(await call('/api/publish_to_user', { user: '', data: 1 }), 400, 'invalid_user');
    assertError(await call('/api/publish_to_user', { user: 'has space', data: 1 }), 400, 'invalid_user');
    assertError(await call('/api/publish', { channel: 'chat:x', data: 1, idempotencyKey: 'has space' }), 400, 'invalid_request');
    assertError(await call('/api/history', { channel: 'history:x', limit: 1001 }), 400, 'invalid_request');
    assert.equal(service.published.length, 0);
  });

  it("data larger than a client's message may be → 400 data_too_large; JSON nested too deep to encode → 400 invalid_data", async () => {
    const { call, service } = setup({ maxDataBytes: 100, maxBodyBytes: 1024 * 1024 });
    assertError(await call('/api/publish', { channel: 'chat:x', data: 'x'.repeat(99) }), 400, 'data_too_large');
    assert.equal((await call('/api/publish', { channel: 'chat:x', data: 'x'.repeat(98) })).status, 200, '100 bytes encoded is allowed');
    assertError(await call('/api/broadcast', { channels: ['chat:a'], data: 'é'.repeat(50) }), 400, 'data_too_large');
    const deep = `{"channel":"chat:x","data":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    assertError(await call('/api/publish', undefined, { raw: deep }), 400, 'invalid_data');
    assert.equal(service.published.length, 1);
  });
});

describe('server API routes: methods', () => {
  /** Calls a method and checks the answer against the method's own response schema. */
  const ok = async (s: ReturnType<typeof setup>, name: MethodName, body: unknown) => {
    const answer = await s.call(`/api/${name}`, body);
    assert.equal(answer.status, 200, `${name}: ${JSON.stringify(answer.json)}`);
    const checked = methods[name].response.safeParse(answer.json);
    assert.ok(checked.success, `${name} answer matches its schema: ${JSON.stringify(answer.json)}`);
    return answer.json;
  };

  it('publish: through the ChannelService as $api, with the idempotency key; a position where the namespace keeps history', async () => {
    const s = setup();
    assert.deepEqual(await ok(s, 'publish', { channel: 'chat:x', data: { n: 1 } }), { position: null });
    const first = await ok(s, 'publish', { channel: 'history:x', data: { n: 2 }, idempotencyKey: 'k1' });
    const retry = await ok(s, 'publish', { channel: 'history:x', data: { n: 2 }, idempotencyKey: 'k1' });
    assert.deepEqual(first, { position: { offset: 1, epoch: 'fakeepoch' } });
    assert.deepEqual(retry, first, 'the retry gets the first position');
    assert.deepEqual(s.service.published, [
      { channel: 'chat:x', data: { n: 1 }, from: API_PUBLISHER },
      { channel: 'history:x', data: { n: 2 }, from: API_PUBLISHER, options: { idempotencyKey: 'k1' } },
    ]);
  });

  it('broadcast: one result per channel in order; a failing channel does not stop the others', async () => {
    const s = setup();
    const channels = Array.from({ length: 40 }, (_, i) => (i % 2 ? `history:b${i}` : `chat:b${i}`));
    const answer = await ok(s, 'broadcast', { channels, data: 'hi' });
    assert.deepEqual(
      answer.results.map((r: { channel: string }) => r.channel),
      channels,
    );
    assert.equal(s.service.published.length, 40);
    s.service.down = true;
    const failed = await ok(s, 'broadcast', { channels: ['chat:y'], data: 'hi' });
    assert.deepEqual(failed.results[0].error.code, 'unavailable');
  });

  it('publish_to_user: user:{user}', async () => {
    const s = setup();
    assert.deepEqual(await ok(s, 'publish_to_user', { user: 'alice', data: 'ping' }), { channel: 'user:alice', position: null });
    assert.equal(s.service.published[0]!.channel, 'user:alice');
  });

  it('disconnect: a user, a session or a connection, with the code the reconnect class calls for', async () => {
    const s = setup();
    assert.deepEqual(await ok(s, 'disconnect', { user: 'alice' }), { closedHere: 2 });
    await ok(s, 'disconnect', { user: 'alice', session: 'sid-1', reconnect: true });
    await ok(s, 'disconnect', { user: 'alice', connection: 'c-1', code: 4599 });
    assert.deepEqual(s.disconnects, [
      { target: { sub: 'alice' }, code: 4510 },
      { target: { sub: 'alice', sid: 'sid-1' }, code: 4010 },
      { target: { sub: 'alice', connectionId: 'c-1' }, code: 4599 },
    ]);
    assertError(await s.call('/api/disconnect', { user: 'alice', code: 4100, reconnect: false }), 400, 'invalid_request');
    assertError(await s.call('/api/disconnect', { user: 'alice', code: 4401 }), 400, 'invalid_request');
    assertError(await s.call('/api/disconnect', { user: 'alice', code: 3000 }), 400, 'invalid_request');
    assertError(await s.call('/api/disconnect', { user: 'alice', session: 's', connection: 'c' }), 400, 'invalid_request');
    assert.equal(s.disconnects.length, 3);
  });

  it('presence, presence_stats and history; disabled namespaces and an unavailable store are documented errors', async () => {
    const s = setup();
    s.service.presenceOf.set('presence:x', [
      { sub: 'a', connectionId: 'c1' },
      { sub: 'a', connectionId: 'c2', info: { name: 'A' } },
    ]);
    assert.deepEqual(await ok(s, 'presence', { channel: 'presence:x', limit: 1 }), {
      entries: [{ sub: 'a', connectionId: 'c1' }],
      total: 2,
    });
    assert.deepEqual(await ok(s, 'presence_stats', { channel: 'presence:x' }), { connections: 2, users: 1 });
    await ok(s, 'publish', { channel: 'history:h', data: 1 });
    await ok(s, 'publish', { channel: 'history:h', data: 2 });
    assert.deepEqual(await ok(s, 'history', { channel: 'history:h', since: { offset: 1, epoch: 'fakeepoch' } }), {
      publications: [{ offset: 2, data: 2, from: '$api' }],
      position: { offset: 2, epoch: 'fakeepoch' },
      epochMatches: true,
      reachesBack: true,
    });
    assertError(await s.call('/api/history', { channel: 'chat:x' }), 400, 'history_disabled');
    assertError(await s.call('/api/presence', { channel: 'chat:x' }), 400, 'presence_disabled');
    s.service.down = true;
    for (const [name, body] of [
      ['publish', { channel: 'chat:x', data: 1 }],
      ['history', { channel: 'history:h' }],
      ['presence_stats', { channel: 'presence:x' }],
    ] as const)
      assertError(await s.call(`/api/${name}`, body), 503, 'unavailable');
  });

  it('channels and info: summed across the instances that answered, the silent ones named', async () => {
    const s = setup();
    assert.deepEqual(await ok(s, 'channels', {}), {
      channels: [
        { channel: 'chat:a', subscribers: 5 },
        { channel: 'chat:b', subscribers: 1 },
      ],
      instances: 2,
      missing: ['dead-instance'],
      truncated: false,
    });
    const info = await ok(s, 'info', {});
    assert.equal(info.connections, 5);
    assert.deepEqual(
      info.instances.map((i: { id: string }) => i.id),
      ['a', 'b'],
      'oldest first',
    );
  });

  it('every call is audit-logged once: method, status, target, never the key or the body', async () => {
    const s = setup();
    await s.call('/api/publish', { channel: 'chat:x', data: SECRET_DATA });
    await s.call('/api/broadcast', { channels: ['chat:a', 'chat:b'], data: SECRET_DATA });
    await s.call('/api/publish', { channel: 'bad channel', data: SECRET_DATA });
    const calls = s.log.filter((e) => e.message === 'api.call');
    assert.deepEqual(
      calls.map((e) => [e.fields.method, e.fields.status, e.fields.target ?? e.fields.count, e.fields.code]),
      [
        ['publish', 200, 'chat:x', undefined],
        ['broadcast', 200, 2, undefined],
        ['publish', 400, undefined, 'invalid_channel'],
      ],
    );
    noSecretsIn(s.log);
  });

  it('GET /api/openapi.json needs no key and is the generated document', async () => {
    const s = setup();
    const response = await s.app.request('/api/openapi.json');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), openApiDocument('0.1.0'));
  });
});
