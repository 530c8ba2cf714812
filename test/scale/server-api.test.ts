/**
 * The server API against real servers: one instance in memory, and three (Node, Bun, Deno) on one
 * real redis-server, every call made to one instance and its effect checked on clients of every
 * instance. Idempotent publish retried on each instance is stored once; a wrong or missing key is a
 * 401 and nothing happens; 413 / 400 / 404 as documented; every call is in the log of the instance
 * that took it, and no key and no body is in any log.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { request, type HttpResponse } from '../support/http.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { projectRoot, type RuntimeTarget } from '../support/server-process.ts';
import type { TestSocket } from '../support/ws-client.ts';
import {
  OPEN_LIMITS,
  assertCleanOutput,
  authenticatedOn,
  call,
  deliveries,
  demoUsers,
  logLines,
  loginAs,
  sleep,
  startInstance,
  subscribe,
  until,
  waitForReady,
  type Instance,
} from './support.ts';

const KEY_OLD = 'api-key-old-0123456789abcdef0123456789';
const KEY_NEW = 'api-key-new-0123456789abcdef0123456789';
const WRONG_KEY = 'api-key-bad-0123456789abcdef0123456789';
const BODY_MARKER = 'api-body-marker-never-logged';
// Each test has users of its own: a socket of an earlier test still closing must not count in `closedHere`.
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'henry', 'ivan'];

/** POST /api/<method> on an instance; `key: null` sends none. */
function api(instance: Instance, method: string, body: unknown, key: string | null = KEY_NEW, raw?: string): Promise<HttpResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  return request(`${instance.origin}/api/${method}`, { method: 'POST', headers, body: raw ?? JSON.stringify(body) });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are JSON, checked field by field
type Json = Record<string, any>;

async function ok(instance: Instance, method: string, body: unknown): Promise<Json> {
  const res = await api(instance, method, body);
  assert.equal(res.status, 200, `${method} on ${instance.name}: ${res.body}`);
  return res.json();
}

const sidOf = (cookie: string) => createHash('sha256').update(cookie.split('=')[1]!).digest('base64url');

for (const mode of ['memory', 'redis'] as const) {
  describe(`server API, ${mode === 'memory' ? 'one instance in memory' : 'three instances (Node, Bun, Deno) on Redis'}`, () => {
    let redis: RedisServer | undefined;
    let all: Instance[] = [];
    const open: TestSocket[] = [];
    const track = (socket: TestSocket) => (open.push(socket), socket);
    /** The instance calls go to, and the one each check uses; on Redis they differ. */
    const at = (i: number) => all[i % all.length]!;

    before(async () => {
      const args = [
        ...OPEN_LIMITS,
        '--api-key',
        `${KEY_OLD},${KEY_NEW}`,
        '--demo-users',
        demoUsers(USERS),
        '--max-connections-per-user',
        '16',
      ];
      if (mode === 'memory') all = [await startInstance('A', 'node', args)];
      else {
        redis = await startRedis();
        const runtimes: RuntimeTarget[] = ['node', 'bun', 'deno'];
        all = await Promise.all(runtimes.map((runtime, i) => startInstance('ABC'[i]!, runtime, [...args, '--redis-url', redis!.url])));
      }
      await Promise.all(all.map((instance) => waitForReady(instance)));
    });

    // Each test starts with no sockets of the last one (per-user caps, `closedHere` counts).
    afterEach(async () => {
      const closing = open.splice(0);
      for (const socket of closing) socket.close();
      await Promise.all(closing.map((socket) => socket.closeCode().catch(() => null)));
      await sleep(100);
    });

    after(async () => {
      for (const socket of open) socket.raw.terminate();
      for (const instance of all) assertCleanOutput(instance, [KEY_OLD, KEY_NEW, WRONG_KEY, BODY_MARKER]);
      await Promise.all(all.map((instance) => instance.server.stop()));
      await redis?.stop();
    });

    /** One authenticated socket of `user` on every instance, each subscribed to `channel`. */
    const everywhere = async (user: string, channel: string) => {
      const cookie = await loginAs(at(0), user);
      const sockets = [];
      for (const instance of all) {
        const socket = track(await authenticatedOn(user, at(0), instance, at(0), cookie));
        await subscribe(socket, channel);
        sockets.push(socket);
      }
      return { cookie, sockets };
    };

    it('publish: every instance’s subscribers get it, from $api; in a namespace with history it is stored and its position returned', async () => {
      const { sockets } = await everywhere('alice', 'chat:pub');
      const answer = await ok(at(1), 'publish', { channel: 'chat:pub', data: { text: 'hello from the backend' } });
      assert.equal(answer.position.offset, 1);
      assert.match(answer.position.epoch, /^[A-Za-z0-9._-]+$/);
      await until(() => sockets.every((s) => deliveries(s, 'chat:pub').length === 1), 5_000, 'a delivery on every instance');
      for (const socket of sockets) {
        const [delivery] = deliveries(socket, 'chat:pub');
        assert.deepEqual({ data: delivery!.data, from: delivery!.from }, { data: { text: 'hello from the backend' }, from: '$api' });
        assert.equal(delivery!.offset, 1);
      }
      // A live-only channel (a namespace the config does not name): delivered, no position.
      const live = await everywhere('alice', 'user:alice');
      assert.deepEqual(await ok(at(2), 'publish', { channel: 'user:alice', data: 1 }), { position: null });
      await until(() => live.sockets.every((s) => deliveries(s, 'user:alice').length === 1), 5_000, 'live deliveries');
    });

    it('publish with an idempotency key, retried on every instance: stored once, delivered once, the same position each time', async () => {
      const { sockets } = await everywhere('bob', 'chat:idem');
      const body = { channel: 'chat:idem', data: { order: 42 }, idempotencyKey: 'order-42-shipped' };
      const answers: { offset: number; epoch: string }[] = [];
      for (let retry = 0; retry < 6; retry++) answers.push((await ok(at(retry), 'publish', body)).position);
      assert.ok(
        answers.every((p) => p.offset === answers[0]!.offset && p.epoch === answers[0]!.epoch),
        JSON.stringify(answers),
      );
      const history = await ok(at(1), 'history', { channel: 'chat:idem' });
      assert.equal(history.publications.length, 1, 'stored once');
      await sleep(300);
      for (const socket of sockets) assert.equal(deliveries(socket, 'chat:idem').length, 1, 'delivered once');
    });

    it('broadcast: one payload to several channels, each channel’s subscribers on every instance get it', async () => {
      const one = await everywhere('carol', 'chat:b1');
      const two = await everywhere('carol', 'user:carol');
      const answer = await ok(at(0), 'broadcast', { channels: ['chat:b1', 'user:carol'], data: 'to both' });
      assert.deepEqual(
        answer.results.map((r: { channel: string; position: unknown }) => [r.channel, r.position === null]),
        [
          ['chat:b1', false],
          ['user:carol', true],
        ],
      );
      await until(
        () =>
          one.sockets.every((s) => deliveries(s, 'chat:b1').length === 1) &&
          two.sockets.every((s) => deliveries(s, 'user:carol').length === 1),
        5_000,
        'broadcast deliveries',
      );
    });

    it('publish_to_user: user:{sub} reaches that user’s sockets on every instance, and nobody else’s', async () => {
      const { sockets } = await everywhere('dave', 'user:dave');
      const other = await everywhere('erin', 'user:erin');
      assert.deepEqual(await ok(at(2), 'publish_to_user', { user: 'dave', data: { note: 'just you' } }), {
        channel: 'user:dave',
        position: null,
      });
      await until(() => sockets.every((s) => deliveries(s, 'user:dave').length === 1), 5_000, 'user deliveries');
      await sleep(200);
      for (const socket of other.sockets) assert.equal(deliveries(socket).length, 0);
    });

    it('presence and presence_stats: the subscribers of every instance; history: what was stored, with offsets', async () => {
      const { sockets } = await everywhere('frank', 'chat:room');
      const grace = await everywhere('grace', 'chat:room');
      const presence = await ok(at(1), 'presence', { channel: 'chat:room' });
      assert.equal(presence.total, 2 * all.length);
      assert.deepEqual(new Set(presence.entries.map((e: { sub: string }) => e.sub)), new Set(['frank', 'grace']));
      assert.deepEqual(await ok(at(2), 'presence_stats', { channel: 'chat:room' }), { connections: 2 * all.length, users: 2 });
      for (let n = 1; n <= 3; n++)
        await call(sockets[n % sockets.length]!, { type: 'publish', id: `h${n}`, channel: 'chat:room', data: { n } });
      const page = await ok(at(0), 'history', { channel: 'chat:room', limit: 2 });
      assert.deepEqual(
        page.publications.map((p: { offset: number; data: unknown; from: string }) => [p.offset, p.data, p.from]),
        [
          [1, { n: 1 }, 'frank'],
          [2, { n: 2 }, 'frank'],
        ],
      );
      const rest = await ok(at(1), 'history', { channel: 'chat:room', since: { offset: 2, epoch: page.position.epoch } });
      assert.deepEqual(
        rest.publications.map((p: { offset: number }) => p.offset),
        [3],
      );
      assert.equal(rest.epochMatches, true);
      // Namespaces without them: documented errors.
      assert.equal((await api(at(0), 'history', { channel: 'user:x' })).json<{ error: { code: string } }>().error.code, 'history_disabled');
      assert.equal(
        (await api(at(0), 'presence', { channel: 'user:x' })).json<{ error: { code: string } }>().error.code,
        'presence_disabled',
      );
      assert.equal(grace.sockets.length, all.length);
    });

    it('channels: subscriber counts summed over every instance, filtered by a pattern; info: every instance, its connections and version', async () => {
      const cookie = await loginAs(at(0), 'alice');
      for (const [i, instance] of all.entries())
        for (let n = 0; n <= i; n++) await subscribe(track(await authenticatedOn('alice', at(0), instance, at(0), cookie)), 'chat:counted');
      const expected = (all.length * (all.length + 1)) / 2;
      const counted = async () =>
        ((await ok(at(1), 'channels', { pattern: 'chat:count*' })).channels as { channel: string; subscribers: number }[]).find(
          (c) => c.channel === 'chat:counted',
        )?.subscribers;
      const started = Date.now();
      // On Redis the other instances must have said hello first (at start and every 5 s).
      while ((await counted()) !== expected && Date.now() - started < 12_000) await sleep(200);
      const answer = await ok(at(1), 'channels', { pattern: 'chat:count*' });
      assert.deepEqual(answer.channels, [{ channel: 'chat:counted', subscribers: expected }]);
      assert.equal(answer.instances, all.length);
      assert.deepEqual(answer.missing, []);
      const info = await ok(at(2), 'info', {});
      assert.equal(info.instances.length, all.length);
      assert.deepEqual(
        info.instances.map((i: { runtime: string }) => i.runtime).sort(),
        mode === 'memory' ? ['node'] : ['bun', 'deno', 'node'],
      );
      assert.ok(info.connections >= expected, `${info.connections} connections`);
      assert.equal(info.version, info.instances[0].version);
    });

    it('disconnect: a user on every instance (4510, do not retry); with reconnect (4010); one login session; one connection', async () => {
      const whole = await everywhere('henry', 'chat:d1');
      assert.equal((await ok(at(1), 'disconnect', { user: 'henry' })).closedHere, mode === 'memory' ? whole.sockets.length : 1);
      for (const socket of whole.sockets)
        assert.deepEqual(await socket.closeCode(), { code: 4510, reason: 'disconnected by the application' });

      const again = await everywhere('henry', 'chat:d2');
      await ok(at(2), 'disconnect', { user: 'henry', reconnect: true });
      for (const socket of again.sockets) assert.equal((await socket.closeCode()).code, 4010);

      // Two login sessions of one user: only the named one's sockets close.
      const first = await everywhere('ivan', 'chat:d3');
      const second = await everywhere('ivan', 'chat:d3');
      await ok(at(0), 'disconnect', { user: 'ivan', session: sidOf(first.cookie), code: 4321 });
      for (const socket of first.sockets) assert.equal((await socket.closeCode()).code, 4321);
      await sleep(300);
      for (const socket of second.sockets) assert.equal(socket.raw.readyState, socket.raw.OPEN, 'the other session stays');

      // One connection, named by its id (as presence and the hooks give it).
      const presence = await ok(at(0), 'presence', { channel: 'chat:d3' });
      const target = presence.entries[0].connectionId as string;
      await ok(at(1), 'disconnect', { user: 'ivan', connection: target });
      await until(() => second.sockets.filter((s) => s.closedAt !== undefined).length === 1, 5_000, 'one socket closed');
      assert.equal(second.sockets.filter((s) => s.raw.readyState === s.raw.OPEN).length, second.sockets.length - 1);
    });

    it('a wrong or missing key: 401 and nothing happens; too large 413; bad channel 400; unknown method 404 — each in the log, no key or body there', async () => {
      const { sockets } = await everywhere('erin', 'chat:guarded');
      const body = { channel: 'chat:guarded', data: { secret: BODY_MARKER } };
      for (const key of [null, WRONG_KEY]) {
        const res = await api(at(1), 'publish', body, key);
        assert.equal(res.status, 401);
        assert.equal(res.json<{ error: { code: string } }>().error.code, 'unauthorized');
      }
      assert.equal((await api(at(0), 'disconnect', { user: 'erin' }, WRONG_KEY)).status, 401);
      // The old key of a rotation still works; both are accepted.
      assert.equal((await api(at(2), 'presence_stats', { channel: 'chat:guarded' }, KEY_OLD)).status, 200);

      const big = await api(at(2), 'publish', { channel: 'chat:guarded', data: BODY_MARKER.repeat(20_000) });
      assert.equal(big.status, 413);
      assert.equal(big.json<{ error: { code: string } }>().error.code, 'body_too_large');
      const bad = await api(at(0), 'publish', { channel: 'chat guarded', data: BODY_MARKER });
      assert.equal(bad.status, 400);
      assert.equal(bad.json<{ error: { code: string } }>().error.code, 'invalid_channel');
      const unknown = await api(at(1), 'frobnicate', { data: BODY_MARKER });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'unknown_method');

      await sleep(500);
      for (const socket of sockets) {
        assert.equal(deliveries(socket, 'chat:guarded').length, 0, 'nothing was published');
        assert.equal(socket.raw.readyState, socket.raw.OPEN, 'nobody was disconnected');
      }
      assert.equal((await ok(at(0), 'history', { channel: 'chat:guarded' })).publications.length, 0, 'nothing was stored');

      const denied = logLines(at(1), 'api.denied');
      assert.ok(denied.some((l) => l.method === 'publish' && l.status === 401 && l.code === 'unauthorized' && l.ip === '127.0.0.1'));
      assert.ok(logLines(at(2), 'api.call').some((l) => l.method === 'publish' && l.status === 413 && l.code === 'body_too_large'));
      assert.ok(logLines(at(0), 'api.call').some((l) => l.method === 'publish' && l.status === 400 && l.code === 'invalid_channel'));
      assert.ok(logLines(at(1), 'api.call').some((l) => l.method === 'frobnicate' && l.status === 404));
      for (const instance of all) {
        const output = instance.server.output();
        for (const secret of [KEY_OLD, KEY_NEW, WRONG_KEY, BODY_MARKER])
          assert.ok(!output.includes(secret), `${secret.slice(0, 14)}… in ${instance.name}'s log`);
      }
    });
  });
}

describe('server API on its own listener (--api-port)', () => {
  it('answers there (loopback), and /api/ is not served on the main port', async () => {
    const instance = await startInstance('A', 'node', ['--api-key', KEY_NEW, '--api-port', '0']);
    try {
      const line = logLines(instance, 'api.listening')[0];
      assert.match(String(line?.url), /^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
      const origin = String(line!.url).replace(/\/api\/$/, '');
      const info = await request(`${origin}/api/info`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY_NEW}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(info.status, 200);
      assert.equal(info.json<{ instances: unknown[] }>().instances.length, 1);
      assert.equal((await request(`${origin}/client.html`)).status, 404, 'nothing else on that listener');
      assert.equal((await api(instance, 'info', {})).status, 404, 'not on the main port');
    } finally {
      await instance.server.stop();
    }
  });
});

describe('hardened-ws publish / disconnect (the CLI), against a running server', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['dist/index.js', ...args],
        { cwd: projectRoot, env: { ...process.env, ...env }, timeout: 20_000 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });

  it('publishes and disconnects with API_URL / API_KEY; a refused call is one line and exit 1; a usage error exit 2', async () => {
    const instance = await startInstance('A', 'node', ['--api-key', `${KEY_OLD},${KEY_NEW}`, '--demo-users', demoUsers(['alice'])]);
    try {
      const env = { API_URL: instance.origin, API_KEY: `${KEY_OLD},${KEY_NEW}` };
      const socket = await authenticatedOn('alice', instance);
      await subscribe(socket, 'chat:cli');
      const published = await cli(['publish', 'chat:cli', '{"text":"from a script"}'], env);
      assert.equal(published.code, 0, published.stderr);
      assert.deepEqual(JSON.parse(published.stdout), { position: { offset: 1, epoch: JSON.parse(published.stdout).position.epoch } });
      await until(() => deliveries(socket, 'chat:cli').length === 1, 5_000, 'the delivery');
      assert.deepEqual(deliveries(socket, 'chat:cli')[0]!.data, { text: 'from a script' });

      const refused = await cli(['disconnect', 'alice'], { ...env, API_KEY: WRONG_KEY });
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr, 'hardened-ws disconnect: 401 unauthorized: a valid API key is required (Authorization: Bearer <key>)\n');
      assert.ok(!refused.stderr.includes(WRONG_KEY));
      for (const args of [
        ['publish', 'chat:cli'],
        ['publish', 'chat:cli', 'not json'],
        ['disconnect'],
        ['disconnect', 'alice', '--code', '12'],
        ['disconnect', 'alice', '--nope'],
      ]) {
        const usage = await cli(args, env);
        assert.equal(usage.code, 2, args.join(' '));
        assert.match(usage.stderr, /^hardened-ws (publish|disconnect): [^\n]+ \(see --help\)\n$/);
      }
      const disconnected = await cli(['disconnect', 'alice', '--code', '4599'], env);
      assert.equal(disconnected.code, 0, disconnected.stderr);
      assert.deepEqual(JSON.parse(disconnected.stdout), { closedHere: 1 });
      assert.equal((await socket.closeCode()).code, 4599);
      // The demo page for backend notifications is served with the others.
      assert.equal((await request(`${instance.origin}/backend.html`)).status, 200);
    } finally {
      await instance.server.stop();
    }
  });
});
