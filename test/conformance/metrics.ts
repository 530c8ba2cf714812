/**
 * Metrics, readiness and request logs on every runtime, each against a dedicated server so that
 * no other test moves the counters: a scripted session (login, auth ok, auth fail, echo, publish,
 * a refused upgrade, a message-rate limit hit, close) must move each counter by what it did.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect, login, sleep, ticket, type Target } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';
import { STUB_SECRET, startStubAuthService, stubTicket, type StubAuthService } from '../support/stub-auth-service.ts';
import type { TestSocket } from '../support/ws-client.ts';

export const METRICS_TOKEN = 'metrics-token-for-tests-0123456789abcdef';

/** Prometheus text → series (`name{a="x",b="y"}`, labels sorted) → value. */
export function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}=${v}`).sort();
    series.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return series;
}

/** Sum of every series of `name` whose labels include `labels`. */
export function sample(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  let sum = 0;
  for (const [key, value] of series) {
    const brace = key.indexOf('{');
    if (key.slice(0, brace) !== name) continue;
    const have = key.slice(brace + 1, -1).split(',');
    if (wanted.every((w) => have.includes(w))) sum += value;
  }
  return sum;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const res = await request(url, { headers });
  assert.equal(res.status, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(res.body);
}

async function authed(t: Target, cookie: string): Promise<TestSocket> {
  const socket = connect(t);
  await socket.opened;
  socket.send({ type: 'auth', ticket: await ticket(t, cookie) });
  assert.equal((await socket.message(0)).type, 'auth.ok');
  return socket;
}

/** Polls until `done` holds (closes are counted when the runtime reports them, a moment after the client sees them). */
async function eventually(url: string, done: (s: Map<string, number>) => boolean): Promise<Map<string, number>> {
  let last = await scrape(url);
  for (let i = 0; i < 50 && !done(last); i++) {
    await sleep(100);
    last = await scrape(url);
  }
  return last;
}

export function metricsSuite(runtime: RuntimeTarget): void {
  const runtimeLabel = runtime === 'binary' ? 'bun' : runtime;

  describe(`${runtime}: metrics during a scripted session`, () => {
    let server: ServerProcess;
    before(async () => {
      server = await startServer(runtime, {
        args: [
          '--message-rate',
          '1/s,5',
          '--login-rate',
          '100/s,1000',
          '--ticket-rate',
          '100/s,1000',
          '--metrics-token',
          METRICS_TOKEN,
          '--log-level',
          'debug',
        ],
      });
    });
    after(async () => {
      await server?.stop();
    });

    it('moves each counter by the expected amount', async () => {
      assert.ok(server.metricsUrl, 'the metrics.listening line names the metrics url');
      const t: Target = { origin: server.origin, wsUrl: server.wsUrl };
      const start = await scrape(server.metricsUrl);
      const delta = (name: string, labels: Record<string, string> = {}) => sample(end, name, labels) - sample(start, name, labels);

      const cookie = await login(t);
      // 1. auth ok, echo, subscribe + publish (delivered back to itself), normal close.
      const a = await authed(t, cookie);
      a.send({ type: 'echo', id: 1, data: 'hi' });
      assert.equal((await a.message(1)).type, 'echo');
      a.send({ type: 'subscribe', id: 2, channel: 'chat:metrics' });
      assert.deepEqual(await a.message(2), { type: 'ok', id: 2, offset: 0, epoch: (await a.message(2)).epoch });
      a.send({ type: 'publish', id: 3, channel: 'chat:metrics', data: 'x' });
      await a.message(4);
      a.close();
      assert.equal((await a.closeCode()).code, 1000);
      // 2. auth fail: a forged ticket.
      const b = connect(t);
      await b.opened;
      b.send({ type: 'auth', ticket: 'A'.repeat(43) });
      assert.equal((await b.closeCode()).code, 4401);
      // 3. a refused upgrade (origin not allowed): an HTTP 403, no socket.
      await assert.rejects(connect(t, 'http://evil.example').opened, /403/);
      // 4. a limit hit: the auth frame and 5 messages at once over --message-rate 1/s,5. No more than that:
      // Deno drops the close frame (client sees 1006) when the peer keeps sending after the server's close.
      const c = await authed(t, cookie);
      for (let i = 0; i < 5; i++) c.send({ type: 'echo', id: i, data: i });
      assert.equal((await c.closeCode()).code, 4429);

      const end = await eventually(
        server.metricsUrl,
        (s) => sample(s, 'hws_connections_closed_total') - sample(start, 'hws_connections_closed_total') >= 3,
      );
      assert.equal(delta('hws_connections_opened_total'), 3);
      assert.equal(delta('hws_connections_closed_total'), 3);
      assert.equal(delta('hws_connections_closed_total', { code: '1000' }), 1);
      assert.equal(delta('hws_connections_closed_total', { code: '4401' }), 1);
      assert.equal(delta('hws_connections_closed_total', { code: '4429' }), 1);
      for (const state of ['awaiting_ticket', 'verifying', 'authenticated'])
        assert.equal(sample(end, 'hws_connections', { state }), 0, state);
      assert.equal(delta('hws_auth_total', { result: 'ok', reason: 'ok' }), 2);
      assert.equal(delta('hws_auth_total', { result: 'rejected', reason: 'unknown_ticket' }), 1);
      assert.equal(delta('hws_auth_total'), 3);
      assert.equal(delta('hws_verify_duration_seconds_count'), 3);
      assert.ok(delta('hws_verify_duration_seconds_sum') > 0);
      assert.equal(delta('hws_auth_service_errors_total'), 0);
      assert.equal(sample(end, 'hws_circuit_breaker_state'), 0);
      // In: a 4 + b 1 + c at least 6 (auth, then 5 taken before the rate refuses one); out: a 5, c ≥ 1.
      assert.ok(delta('hws_messages_total', { direction: 'in' }) >= 11, `in ${delta('hws_messages_total', { direction: 'in' })}`);
      assert.ok(delta('hws_messages_total', { direction: 'out' }) >= 6, `out ${delta('hws_messages_total', { direction: 'out' })}`);
      assert.ok(delta('hws_bytes_total', { direction: 'in' }) > 100);
      assert.ok(delta('hws_bytes_total', { direction: 'out' }) > 50);
      assert.equal(delta('hws_limit_hits_total', { kind: 'message_rate' }), 1);
      assert.equal(delta('hws_limit_hits_total'), 1);
      assert.equal(delta('hws_upgrades_refused_total', { reason: 'origin_forbidden' }), 1);
      assert.equal(delta('hws_broker_publishes_total', { result: 'ok' }), 1);
      assert.equal(delta('hws_broker_deliveries_total'), 1);
      assert.equal(sample(end, 'hws_redis_errors_total'), 0);
      assert.equal(sample(end, 'hws_build_info', { runtime: runtimeLabel }), 1);
      assert.ok(end.has('process_cpu_seconds_total{}'), 'default process metrics are served');
    });

    it('serves /metrics on the main port only with the bearer token', async () => {
      const url = `${server.origin}/metrics`;
      assert.equal((await request(url)).status, 401);
      assert.equal((await request(url, { headers: { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}x` } })).status, 401);
      const ok = await scrape(url, { authorization: `Bearer ${METRICS_TOKEN}` });
      assert.equal(sample(ok, 'hws_build_info', { runtime: runtimeLabel }), 1);
      // The metrics listener serves nothing else.
      assert.equal((await request(server.metricsUrl!.replace(/\/metrics$/, '/readyz'))).status, 404);
    });

    it('logs one http.request line per request with a request id, never headers', async () => {
      const res = await request(`${server.origin}/healthz`, { headers: { cookie: 'hws_session=secret-cookie-value' } });
      const reqId = String(res.headers['x-request-id']);
      assert.match(reqId, /^[\w-]{8,}$/);
      await sleep(100);
      const line = server.logs().find((l) => l.msg === 'http.request' && l.reqId === reqId);
      assert.ok(line, 'an http.request line with the response X-Request-Id');
      assert.deepEqual(Object.keys(line).sort(), ['ip', 'level', 'method', 'ms', 'msg', 'path', 'reqId', 'status', 'time']);
      assert.equal(line.level, 20);
      assert.equal(line.ip, '127.0.0.1');
      assert.deepEqual([line.method, line.path, line.status], ['GET', '/healthz', 200]);
      assert.ok(!server.output().includes('secret-cookie-value'));
      assert.ok(
        server.logs().some((l) => l.msg === 'http.request' && l.path === '/auth/login' && l.status === 204),
        'the login was logged',
      );
    });
  });

  describe(`${runtime}: breaker and auth service errors in metrics`, () => {
    let stub: StubAuthService;
    let server: ServerProcess;
    before(async () => {
      stub = await startStubAuthService();
      server = await startServer(runtime, {
        args: ['--auth-verify-url', stub.url, '--breaker-threshold', '1', '--breaker-cooldown', '60s'],
        env: { AUTH_VERIFY_SECRET: STUB_SECRET },
      });
    });
    after(async () => {
      await server?.stop();
      await stub?.stop();
    });

    it('counts unavailable verifications and shows the open breaker', async () => {
      const socket = connect({ origin: server.origin, wsUrl: server.wsUrl });
      await socket.opened;
      socket.send({ type: 'auth', ticket: stubTicket('fail') });
      assert.equal((await socket.closeCode()).code, 1013);
      const s = await eventually(server.metricsUrl!, (m) => sample(m, 'hws_connections_closed_total') >= 1);
      assert.equal(sample(s, 'hws_auth_total', { result: 'unavailable', reason: 'status_5xx' }), 1);
      assert.equal(sample(s, 'hws_auth_service_errors_total'), 1);
      assert.equal(sample(s, 'hws_circuit_breaker_state'), 2);
      assert.equal(sample(s, 'hws_connections_closed_total', { code: '1013' }), 1);
    });
  });

  describe(`${runtime}: readiness while draining`, () => {
    it('SIGTERM with a socket that does not answer the close: /readyz is 503 (never 200) until the process exits 0', async () => {
      const server = await startServer(runtime, { args: ['--drain-timeout', '3s'] });
      // A raw upgrade that then stops reading: it never answers the server's close frame.
      const raw = net.connect(server.port, '127.0.0.1');
      raw.on('error', () => {});
      await new Promise((resolve) => raw.once('connect', resolve));
      raw.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      const head = await new Promise<string>((resolve) => raw.once('data', (data: Buffer) => resolve(data.toString('latin1'))));
      assert.match(head, /^HTTP\/1\.1 101/);
      raw.pause();
      assert.equal((await request(`${server.origin}/readyz`)).status, 200);

      const exited = server.stop('SIGTERM');
      // From the moment the process logs shutdown.start (readiness flips right after it, synchronously).
      for (let i = 0; i < 50 && !server.logs().some((l) => l.msg === 'shutdown.start'); i++) await sleep(20);
      const statuses: number[] = [];
      for (let i = 0; i < 20 && server.child.exitCode === null && !statuses.includes(503); i++) {
        statuses.push(
          await request(`${server.origin}/readyz`).then(
            (r) => r.status,
            () => 0,
          ),
        );
        await sleep(100);
      }
      raw.destroy();
      assert.equal(await exited, 0);
      assert.ok(!statuses.includes(200), `readyz during drain: ${statuses.join(',')}`);
      // Bun reports the socket closed as soon as the server closes it, so its drain window is too short to observe.
      if (runtimeLabel !== 'bun') assert.ok(statuses.includes(503), `readyz during drain: ${statuses.join(',')}`);
    });
  });
}
