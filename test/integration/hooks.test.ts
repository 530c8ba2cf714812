/**
 * The backend hooks against real processes: the example backend (examples/backend.ts, run with tsx)
 * for rpc, the subscribe and publish proxy and a notification through the server API; then, on
 * Node, Bun and Deno, a backend that answers 500, is too slow (past --hook-timeout) or is down:
 * every request gets its documented error reply in bounded time, never an allow, the socket stays
 * open, the breaker opens (no more calls reach the backend) and recovers once the backend is back.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/redis-server.ts';
import { projectRoot, startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';
import { authenticated, sleep } from '../support/flow.ts';
import { parseMetrics, sample } from '../conformance/metrics.ts';
import type { TestSocket } from '../support/ws-client.ts';

const HOOK_SECRET = 'hook-secret-0123456789abcdef0123456789ab';
const API_KEY = 'hooks-api-key-0123456789abcdef012345678';

/** Namespaces: `room` is decided by the backend (subscribe and publish), `chat` as built in. */
function configFile(dir: string): string {
  const file = path.join(dir, 'hooks.json');
  writeFileSync(
    file,
    JSON.stringify({
      namespaces: {
        chat: { 'history-size': 100, recovery: true, presence: true },
        room: { proxy: true, presence: true, 'history-size': 10 },
      },
    }),
  );
  return file;
}

/** Sends a request with an id and resolves with the reply that carries it (deliveries skipped). */
async function ask(socket: TestSocket, message: Record<string, unknown>, timeoutMs = 5_000): Promise<Record<string, unknown>> {
  const from = socket.messages.length;
  socket.send(message);
  const deadline = Date.now() + timeoutMs;
  for (let i = from; ; i++) {
    const reply = await socket.message(i, Math.max(1, deadline - Date.now()));
    if (reply.id === message.id && reply.type !== 'message') return reply;
  }
}

let ids = 0;
const nextId = () => `r${++ids}`;

describe('hooks with the example backend (examples/backend.ts)', () => {
  let dir: string;
  let backend: ChildProcess;
  let server: ServerProcess;
  const open: TestSocket[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hws-hooks-'));
    const [backendPort, serverPort] = [await freePort(), await freePort()];
    backend = spawn(path.join(projectRoot, 'node_modules/.bin/tsx'), ['--tsconfig', 'examples/tsconfig.repo.json', 'examples/backend.ts'], {
      cwd: projectRoot,
      env: { ...process.env, PORT: String(backendPort), HOOK_SECRET, API_KEY, API_URL: `http://127.0.0.1:${serverPort}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      backend.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('backend listening')) resolve();
      });
      backend.once('exit', (code) => reject(new Error(`backend exited ${code}: ${out}`)));
    });
    const hooks = `http://127.0.0.1:${backendPort}/hooks`;
    server = await startServer('node', {
      args: [
        '--port',
        String(serverPort),
        '--config',
        configFile(dir),
        '--api-key',
        API_KEY,
        '--hook-secret',
        HOOK_SECRET,
        '--hook-rpc-url',
        `${hooks}/rpc`,
        '--hook-subscribe-url',
        `${hooks}/subscribe`,
        '--hook-publish-url',
        `${hooks}/publish`,
        '--rpc-rate',
        '5/s,5',
      ],
    });
  });

  after(async () => {
    for (const socket of open) socket.raw.terminate();
    await server?.stop();
    backend?.kill('SIGTERM');
    if (backend && backend.exitCode === null) await once(backend, 'exit');
    rmSync(dir, { recursive: true, force: true });
    const output = server.output();
    for (const secret of [HOOK_SECRET, API_KEY]) assert.ok(!output.includes(secret), 'a secret in the server log');
  });

  const socket = async () => {
    const s = await authenticated(server);
    open.push(s);
    return s;
  };

  it('rpc: the backend’s data comes back as {"type":"rpc","id","data"}; its error as rpc_error with its code and words', async () => {
    const s = await socket();
    assert.deepEqual(await ask(s, { type: 'rpc', id: 'e1', method: 'echo', data: { n: [1, 2] } }), {
      type: 'rpc',
      id: 'e1',
      data: { n: [1, 2] },
    });
    const time = await ask(s, { type: 'rpc', id: 7, method: 'time' });
    assert.equal(time.type, 'rpc');
    assert.match((time.data as { now: string }).now, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(await ask(s, { type: 'rpc', id: 'e2', method: 'nope' }), {
      type: 'error',
      id: 'e2',
      code: 'rpc_error',
      reason: 'unknown_method',
      message: 'no method nope',
    });
    // Without an id the answer could not be matched; a method must be a plain name.
    s.send({ type: 'rpc', method: 'echo' });
    assert.deepEqual(await s.message(s.messages.length), { type: 'error', code: 'invalid_message' });
    assert.deepEqual(await ask(s, { type: 'rpc', id: 'e3', method: 'a b' }), { type: 'error', id: 'e3', code: 'invalid_message' });
  });

  it('rpc → the backend → the server API → the user’s channel: the notification arrives, from $api', async () => {
    const s = await socket();
    assert.equal((await ask(s, { type: 'subscribe', id: nextId(), channel: 'user:demo' })).type, 'ok');
    assert.deepEqual(await ask(s, { type: 'rpc', id: 'n1', method: 'notify_me', data: { text: 'ship it' } }), {
      type: 'rpc',
      id: 'n1',
      data: { sent: true },
    });
    const started = Date.now();
    while (!s.messages.some((m) => m.type === 'message') && Date.now() - started < 5_000) await sleep(10);
    const delivery = s.messages.find((m) => m.type === 'message')!;
    assert.ok(delivery, 'the notification arrived');
    assert.deepEqual(
      { channel: delivery.channel, data: delivery.data, from: delivery.from },
      { channel: 'user:demo', data: { title: 'Hello from the backend', text: 'ship it' }, from: '$api' },
    );
  });

  it('per-connection rpc rate: past the burst, rate_limited with retryAfterMs; the socket stays open and other sockets are not limited', async () => {
    const s = await socket();
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => ask(s, { type: 'rpc', id: `q${i}`, method: 'echo', data: i })));
    const limited = replies.filter((r) => r.code === 'rate_limited');
    assert.equal(replies.filter((r) => r.type === 'rpc').length, 5);
    assert.equal(limited.length, 3);
    assert.ok(limited.every((r) => typeof r.retryAfterMs === 'number' && r.retryAfterMs > 0));
    const other = await socket();
    assert.equal((await ask(other, { type: 'rpc', id: 'o1', method: 'echo', data: 1 })).type, 'rpc');
    assert.deepEqual(await ask(s, { type: 'echo', id: 'still', data: 'open' }), { type: 'echo', id: 'still', data: 'open' });
  });

  it('subscribe proxy: the backend allows (its info shows in presence) or denies with its code; publish proxy moderates', async () => {
    const s = await socket();
    assert.equal((await ask(s, { type: 'subscribe', id: nextId(), channel: 'room:lobby' })).type, 'ok');
    const presence = await ask(s, { type: 'presence', id: nextId(), channel: 'room:lobby' });
    assert.deepEqual(
      (presence.clients as { info?: unknown }[]).map((c) => c.info),
      [{ name: 'DEMO' }],
    );
    assert.deepEqual(await ask(s, { type: 'subscribe', id: 'v', channel: 'room:vip' }), {
      type: 'error',
      id: 'v',
      code: 'forbidden',
      reason: 'members_only',
      message: 'VIPs only',
    });
    // History and presence in a proxied namespace are for the connections the backend let in.
    assert.equal((await ask(s, { type: 'history', id: nextId(), channel: 'room:vip' })).code, 'forbidden');
    assert.equal((await ask(s, { type: 'history', id: nextId(), channel: 'room:lobby' })).type, 'history');
    const ok = await ask(s, { type: 'publish', id: 'p1', channel: 'room:lobby', data: { text: 'hello' } });
    assert.equal(ok.type, 'ok');
    assert.deepEqual(await ask(s, { type: 'publish', id: 'p2', channel: 'room:lobby', data: { text: 'buy SPAM now' } }), {
      type: 'error',
      id: 'p2',
      code: 'forbidden',
      reason: 'moderated',
    });
    await sleep(200);
    const delivered = s.messages.filter((m) => m.type === 'message' && m.channel === 'room:lobby').map((m) => m.data);
    assert.deepEqual(delivered, [{ text: 'hello' }], 'the refused publish was not delivered');
  });

  it('/metrics counts server API requests by method and status (refused ones too) and hook answers', async () => {
    const api = (method: string, key: string) =>
      fetch(`${server.origin}/api/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'chat:metrics', data: 1 }),
      }).then((r) => r.status);
    const before = await metricsOf(server);
    assert.equal(await api('publish', API_KEY), 200);
    assert.equal(await api('publish', 'not-the-key-0123456789abcdef0123456789'), 401);
    assert.equal(await api('no_such_method', API_KEY), 404);
    const m = await metricsOf(server);
    const moved = (labels: Record<string, string>) =>
      sample(m, 'hws_api_requests_total', labels) - sample(before, 'hws_api_requests_total', labels);
    assert.equal(moved({ method: 'publish', status: '200' }), 1);
    assert.equal(moved({ method: 'publish', status: '401' }), 1);
    assert.equal(moved({ method: 'other', status: '404' }), 1, 'a path that names no method is `other`');
    assert.ok(sample(m, 'hws_api_duration_seconds_count', { method: 'publish' }) >= 2);
    assert.ok(sample(m, 'hws_hook_calls_total', { hook: 'rpc', result: 'answer', reason: 'ok' }) >= 5, 'rpc answers');
    assert.ok(sample(m, 'hws_hook_calls_total', { hook: 'subscribe', result: 'answer', reason: 'ok' }) >= 2, 'subscribe answers');
    assert.equal(sample(m, 'hws_hook_breaker_state', { hook: 'rpc' }), 0, 'no breaker has moved: no series, or 0');
  });
});

/** A backend whose behaviour the test switches: it counts the calls that reach it. */
function flakyBackend() {
  let mode: 'ok' | '500' | 'slow' = 'ok';
  let hits = 0;
  const authorizations = new Set<string>();
  const server = http.createServer((req, res) => {
    hits++;
    authorizations.add(req.headers.authorization ?? '');
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (mode === 'slow') return void setTimeout(() => res.destroyed || res.end('{"data":"late"}'), 5_000).unref();
      if (mode === '500') return void res.writeHead(500).end('{"error":"boom"}');
      const request = JSON.parse(body) as { type: string; data?: unknown };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(request.type === 'rpc' ? { data: request.data } : { allow: true }));
    });
  });
  return {
    server,
    authorizations,
    get hits() {
      return hits;
    },
    set mode(next: 'ok' | '500' | 'slow') {
      mode = next;
    },
  };
}

const RUNTIMES: RuntimeTarget[] = ['node', 'bun', 'deno'];
const TIMEOUT_MS = 400;
const COOLDOWN_MS = 1_500;

for (const runtime of RUNTIMES) {
  describe(`hooks on ${runtime} with a backend that fails: 500, slow, down`, () => {
    let dir: string;
    let server: ServerProcess;
    let backend: ReturnType<typeof flakyBackend>;
    let port: number;
    let s: TestSocket;

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'hws-hooks-'));
      backend = flakyBackend();
      port = await freePort();
      backend.server.listen(port, '127.0.0.1');
      await once(backend.server, 'listening');
      const url = `http://127.0.0.1:${port}`;
      server = await startServer(runtime, {
        timeoutMs: 30_000,
        args: [
          '--config',
          configFile(dir),
          '--hook-secret',
          HOOK_SECRET,
          '--hook-rpc-url',
          `${url}/rpc`,
          '--hook-subscribe-url',
          `${url}/subscribe`,
          '--hook-publish-url',
          `${url}/publish`,
          '--hook-timeout',
          `${TIMEOUT_MS}ms`,
          '--hook-breaker-threshold',
          '3',
          '--hook-breaker-cooldown',
          `${COOLDOWN_MS}ms`,
          '--rpc-rate',
          '100/s,100',
        ],
      });
      s = await authenticated(server);
    });

    after(async () => {
      s?.raw.terminate();
      await server?.stop();
      backend.server.closeAllConnections();
      backend.server.close();
      rmSync(dir, { recursive: true, force: true });
      assert.ok(!server.output().includes(HOOK_SECRET), 'the hook secret in the server log');
    });

    /** An rpc's reply and how long it took. */
    const rpc = async (data: unknown) => {
      const started = performance.now();
      const reply = await ask(s, { type: 'rpc', id: nextId(), method: 'echo', data });
      return { reply, ms: performance.now() - started };
    };
    const breakerLog = () =>
      server
        .logs()
        .filter((l) => l.msg === 'hook.breaker' && l.hook === 'rpc')
        .map((l) => l.state);
    /** The breaker's log lines once they say `expected` (the log and the socket are two pipes: either may be read first). */
    const breakerSays = async (expected: string[], last = false) => {
      const deadline = Date.now() + 2_000;
      const now = () => (last ? breakerLog().slice(-expected.length) : breakerLog());
      while (JSON.stringify(now()) !== JSON.stringify(expected) && Date.now() < deadline) await sleep(20);
      assert.deepEqual(now(), expected);
    };
    const stillOpen = async () => {
      const id = nextId();
      assert.deepEqual(await ask(s, { type: 'echo', id, data: 'alive' }), { type: 'echo', id, data: 'alive' });
    };

    it('the secret is sent; a working backend answers', async () => {
      assert.equal((await rpc('hi')).reply.type, 'rpc');
      assert.deepEqual([...backend.authorizations], [`Bearer ${HOOK_SECRET}`]);
    });

    it('500: backend_unavailable for rpc, subscribe and publish (never an allow); after 3 the breaker opens and no call reaches the backend', async () => {
      backend.mode = '500';
      for (let i = 0; i < 3; i++) assert.equal((await rpc(i)).reply.code, 'backend_unavailable');
      await stillOpen();
      const hits = backend.hits;
      const fast = await rpc('fast');
      assert.equal(fast.reply.code, 'backend_unavailable');
      assert.ok(typeof fast.reply.retryAfterMs === 'number' && fast.reply.retryAfterMs > 0, JSON.stringify(fast.reply));
      assert.equal(backend.hits, hits, 'the open breaker calls nobody');
      await breakerSays(['open']);
      // The subscribe and publish hooks have breakers of their own: 500 is refused, never allowed.
      const sub = await ask(s, { type: 'subscribe', id: 'sx', channel: 'room:x' });
      assert.deepEqual(sub, { type: 'error', id: 'sx', code: 'backend_unavailable' });
      assert.equal((await ask(s, { type: 'publish', id: nextId(), channel: 'room:x', data: 1 })).code, 'backend_unavailable');
      await stillOpen();
    });

    it('recovers: after the cool-down the next call is the trial; the backend answers and the breaker closes', async () => {
      backend.mode = 'ok';
      await sleep(COOLDOWN_MS + 100);
      assert.deepEqual((await rpc('back')).reply.data, 'back');
      await breakerSays(['open', 'half_open', 'closed']);
      assert.equal((await ask(s, { type: 'subscribe', id: nextId(), channel: 'room:x' })).type, 'ok');
    });

    it(`slow (past --hook-timeout ${TIMEOUT_MS} ms): backend_unavailable at the deadline, not when the backend would answer; the breaker opens`, async () => {
      backend.mode = 'slow';
      for (let i = 0; i < 3; i++) {
        const { reply, ms } = await rpc(i);
        assert.equal(reply.code, 'backend_unavailable');
        assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + 1_500, `answered after ${Math.round(ms)} ms`);
      }
      const sub = await ask(s, { type: 'subscribe', id: nextId(), channel: 'room:slow' });
      assert.equal(sub.code, 'backend_unavailable');
      await breakerSays(['open'], true);
      await stillOpen();
      backend.mode = 'ok';
      await sleep(COOLDOWN_MS + 100);
      assert.equal((await rpc('again')).reply.type, 'rpc');
    });

    it('down (nothing listens): backend_unavailable; the socket stays open through all of it', async () => {
      backend.server.closeAllConnections();
      backend.server.close();
      await once(backend.server, 'close');
      for (let i = 0; i < 4; i++) assert.equal((await rpc(i)).reply.code, 'backend_unavailable');
      assert.equal((await ask(s, { type: 'subscribe', id: nextId(), channel: 'room:down' })).code, 'backend_unavailable');
      await stillOpen();
      assert.equal(s.raw.readyState, s.raw.OPEN);
      const failuresOf = () => server.logs().filter((l) => l.msg === 'hook.failed' && l.hook === 'rpc');
      for (let waited = 0; !failuresOf().some((l) => l.reason === 'unreachable') && waited < 2_000; waited += 20) await sleep(20);
      const failures = failuresOf();
      assert.ok(failures.some((l) => l.reason === 'status_500'));
      assert.ok(failures.some((l) => l.reason === 'timeout'));
      assert.ok(failures.some((l) => l.reason === 'unreachable'));
    });

    it('/metrics counts every call by hook, result and reason, times them, and shows each breaker', async () => {
      const m = await metricsOf(server);
      const calls = (labels: Record<string, string>) => sample(m, 'hws_hook_calls_total', labels);
      assert.ok(calls({ hook: 'rpc', result: 'answer', reason: 'ok' }) >= 3, 'answers');
      assert.ok(calls({ hook: 'rpc', result: 'unavailable', reason: 'status_5xx' }) >= 3, 'status 500');
      assert.ok(calls({ hook: 'rpc', result: 'unavailable', reason: 'timeout' }) >= 3, 'timeouts');
      assert.ok(calls({ hook: 'rpc', result: 'unavailable', reason: 'unreachable' }) >= 1, 'unreachable');
      assert.ok(calls({ hook: 'rpc', result: 'unavailable', reason: 'circuit_open' }) >= 1, 'refused by the open breaker');
      assert.ok(calls({ hook: 'subscribe', result: 'unavailable' }) >= 2, 'the subscribe hook');
      assert.ok(calls({ hook: 'publish', result: 'unavailable', reason: 'status_5xx' }) >= 1, 'the publish hook');
      assert.equal(sample(m, 'hws_hook_duration_seconds_count', { hook: 'rpc' }), calls({ hook: 'rpc' }));
      assert.ok(sample(m, 'hws_hook_duration_seconds_sum', { hook: 'rpc' }) >= (3 * TIMEOUT_MS) / 1000, 'the timeouts took their time');
      assert.equal(sample(m, 'hws_hook_breaker_state', { hook: 'rpc' }), 2, 'open: the backend is down');
    });
  });
}

/** The server's metrics, from its metrics listener. */
async function metricsOf(server: ServerProcess): Promise<Map<string, number>> {
  const response = await fetch(server.metricsUrl!);
  assert.equal(response.status, 200);
  return parseMetrics(await response.text());
}
