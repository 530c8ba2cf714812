/** Metrics labels and gauges, log redaction and format, readiness and request logs of the assembled app. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { upgradeWebSocket } from '@hono/node-server';
import { honoSocketRuntime } from '../../src/library/hono-runtime.ts';
import { register as globalRegister } from 'prom-client';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { assembleServer } from '../../src/server/assemble.ts';
import { censorSecrets, createLogger, prettyLine, secretFields } from '../../src/logging/pino.ts';
import {
  PACKAGE_VERSION,
  apiMethodLabel,
  authReasonLabel,
  closeCodeLabel,
  createMetrics,
  hookLabel,
  hookReasonLabel,
} from '../../src/server/metrics.ts';
import type { Platform } from '../../src/server/platform.ts';
import { parseMetrics, sample } from '../conformance/metrics.ts';

const metrics = () => createMetrics({ runtime: 'node', runtimeVersion: '20.0.0', defaultMetrics: false });
const scrape = async (m: ReturnType<typeof metrics>) => parseMetrics(await m.scrape());

describe('metrics', () => {
  it('tracks connections by state from phase changes; closed only decrements', async () => {
    const m = metrics();
    m.phaseChanged(null, 'awaiting_ticket');
    m.phaseChanged(null, 'awaiting_ticket');
    m.phaseChanged('awaiting_ticket', 'verifying');
    m.phaseChanged('verifying', 'authenticated');
    m.phaseChanged('awaiting_ticket', 'closed');
    let s = await scrape(m);
    assert.equal(sample(s, 'hws_connections_opened_total'), 2);
    assert.equal(sample(s, 'hws_connections', { state: 'awaiting_ticket' }), 0);
    assert.equal(sample(s, 'hws_connections', { state: 'verifying' }), 0);
    assert.equal(sample(s, 'hws_connections', { state: 'authenticated' }), 1);
    m.phaseChanged('authenticated', 'closed');
    s = await scrape(m);
    assert.equal(sample(s, 'hws_connections'), 0);
    assert.ok(![...s.keys()].some((k) => k.includes('closed') && k.startsWith('hws_connections{')), 'no state="closed" series');
  });

  it('counts per connect (opened, closed by code, verifications) the same across scrapes: collected, not doubled', async () => {
    const m = metrics();
    m.phaseChanged(null, 'awaiting_ticket');
    m.verified('ok', 'ok', 0.002);
    m.verified('rejected', 'unknown_ticket', 0.001);
    m.closed(1000);
    m.closed(4401);
    const first = await m.scrape();
    assert.equal(await m.scrape(), first);
    const s = parseMetrics(first);
    assert.equal(sample(s, 'hws_connections_opened_total'), 1);
    assert.equal(sample(s, 'hws_connections_closed_total', { code: '1000' }), 1);
    assert.equal(sample(s, 'hws_connections_closed_total', { code: '4401' }), 1);
    assert.equal(sample(s, 'hws_auth_total', { result: 'ok', reason: 'ok' }), 1);
    assert.equal(sample(s, 'hws_auth_total', { result: 'rejected', reason: 'unknown_ticket' }), 1);
    m.closed(1000);
    m.phaseChanged('awaiting_ticket', 'closed');
    const later = parseMetrics(await m.scrape());
    assert.equal(sample(later, 'hws_connections_closed_total', { code: '1000' }), 2);
    assert.equal(sample(later, 'hws_connections', { state: 'awaiting_ticket' }), 0);
  });

  it('keeps every label bounded', async () => {
    assert.equal(closeCodeLabel(4429), '4429');
    assert.equal(closeCodeLabel(1006), '1006');
    assert.equal(closeCodeLabel(3999), 'other');
    assert.equal(closeCodeLabel(4777), 'other');
    assert.equal(authReasonLabel('unknown_ticket'), 'unknown_ticket');
    assert.equal(authReasonLabel('circuit_open'), 'circuit_open');
    assert.equal(authReasonLabel('status_503'), 'status_5xx');
    assert.equal(authReasonLabel('status_5030'), 'other');
    assert.equal(authReasonLabel('my_service_reason_' + Math.random()), 'other');
    const m = metrics();
    for (let i = 0; i < 100; i++) {
      m.closed(3000 + i);
      m.verified('rejected', `reason_${i}`, 0.001);
      m.limitHit(`kind_${i}`);
      m.upgradeRefused(`why_${i}`, true);
    }
    const s = await scrape(m);
    assert.equal(sample(s, 'hws_connections_closed_total', { code: 'other' }), 100);
    assert.equal(sample(s, 'hws_auth_total', { result: 'rejected', reason: 'other' }), 100);
    assert.equal(sample(s, 'hws_limit_hits_total', { kind: 'other' }), 200);
    assert.equal(sample(s, 'hws_upgrades_refused_total', { reason: 'other' }), 100);
    assert.ok(s.size < 60, `series: ${s.size}`);
  });

  it('keeps hook and API labels bounded: unknown hooks, reasons and methods are `other`, statuses by class', async () => {
    assert.equal(hookReasonLabel('status_502'), 'status_5xx');
    assert.equal(hookReasonLabel('circuit_open'), 'circuit_open');
    assert.equal(hookLabel('rpc'), 'rpc');
    assert.equal(apiMethodLabel('publish_to_user'), 'publish_to_user');
    const m = metrics();
    for (let i = 0; i < 100; i++) {
      m.hookCalled(`hook_${i}`, 'unavailable', `reason_${i}`, 0.01);
      m.apiCalled(`method_${i}`, 404, 0.001);
    }
    m.resynced(3);
    m.recovery('recovered');
    m.recovery('resync');
    const s = await scrape(m);
    assert.equal(sample(s, 'hws_hook_calls_total', { hook: 'other', result: 'unavailable', reason: 'other' }), 100);
    assert.equal(sample(s, 'hws_api_requests_total', { method: 'other', status: '404' }), 100);
    assert.equal(sample(s, 'hws_channel_resyncs_total'), 1);
    assert.equal(sample(s, 'hws_recoveries_total', { result: 'recovered' }), 1);
    assert.equal(sample(s, 'hws_recoveries_total', { result: 'resync' }), 1);
    assert.ok(s.size < 80, `series: ${s.size}`);
  });

  it('counts verifications, service errors, breaker, traffic, limits, broker and Redis', async () => {
    const m = metrics();
    m.verified('ok', 'ok', 0.002);
    m.verified('unavailable', 'timeout', 2);
    m.breakerChanged('open');
    m.messageIn(10);
    m.messageOut(30);
    m.messageOut(5);
    m.limitHit('message_rate');
    m.upgradeRefused('upgrade_rate', true);
    m.upgradeRefused('origin_forbidden', false);
    m.published(true);
    m.published(false);
    m.delivered();
    m.redisError();
    const s = await scrape(m);
    assert.equal(sample(s, 'hws_verify_duration_seconds_count'), 2);
    assert.equal(sample(s, 'hws_verify_duration_seconds_bucket', { result: 'ok', le: '0.0025' }), 1);
    assert.equal(sample(s, 'hws_verify_duration_seconds_bucket', { result: 'unavailable', le: '1' }), 0);
    assert.equal(sample(s, 'hws_auth_service_errors_total'), 1);
    assert.equal(sample(s, 'hws_circuit_breaker_state'), 2);
    m.breakerChanged('half_open');
    assert.equal(sample(await scrape(m), 'hws_circuit_breaker_state'), 1);
    assert.deepEqual([sample(s, 'hws_messages_total', { direction: 'in' }), sample(s, 'hws_messages_total', { direction: 'out' })], [1, 2]);
    assert.deepEqual([sample(s, 'hws_bytes_total', { direction: 'in' }), sample(s, 'hws_bytes_total', { direction: 'out' })], [10, 35]);
    assert.equal(sample(s, 'hws_limit_hits_total', { kind: 'message_rate' }), 1);
    assert.equal(sample(s, 'hws_limit_hits_total', { kind: 'upgrade_rate' }), 1);
    assert.equal(sample(s, 'hws_limit_hits_total', { kind: 'origin_forbidden' }), 0, 'an origin refusal is no limit');
    assert.equal(sample(s, 'hws_upgrades_refused_total'), 2);
    assert.deepEqual(
      [sample(s, 'hws_broker_publishes_total', { result: 'ok' }), sample(s, 'hws_broker_publishes_total', { result: 'error' })],
      [1, 1],
    );
    assert.equal(sample(s, 'hws_broker_deliveries_total'), 1);
    assert.equal(sample(s, 'hws_redis_errors_total'), 1);
    assert.equal(sample(s, 'hws_build_info', { runtime: 'node', runtime_version: '20.0.0', version: PACKAGE_VERSION }), 1);
  });

  it('uses its own registry, so two instances coexist and the global one stays empty', async () => {
    const a = metrics();
    const b = metrics();
    a.delivered();
    assert.equal(sample(await scrape(b), 'hws_broker_deliveries_total'), 0);
    assert.ok(!(await globalRegister.metrics()).includes('hws_'));
  });

  it('serves default process metrics after its own', async () => {
    const text = await createMetrics({ runtime: 'node', runtimeVersion: '20' }).scrape();
    assert.ok(text.indexOf('hws_build_info') < text.indexOf('process_cpu_seconds_total'));
  });

  it('PACKAGE_VERSION is package.json version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(PACKAGE_VERSION, pkg.version);
  });
});

describe('logger', () => {
  it('censors every secret field: top level, nested, two levels down and in child bindings', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', (line) => lines.push(line));
    const secret = (name: string, where: string) => `SECRET-${where}-${name}-value`;
    for (const name of secretFields) {
      logger.info(
        { [name]: secret(name, 'top'), nested: { [name]: secret(name, 'nested') }, req: { headers: { [name]: secret(name, 'deep') } } },
        'x',
      );
      logger.child({ [name]: secret(name, 'bound') }).warn({}, 'y');
    }
    const out = lines.join('');
    assert.ok(
      !out.includes('SECRET-'),
      out.split('\n').find((l) => l.includes('SECRET-')),
    );
    assert.equal(out.split('[redacted]').length - 1, secretFields.length * 4);
  });

  it("censors inside arrays and never modifies the caller's objects", () => {
    const fields = { list: [{ ticket: 'T1' }, 'plain'], nested: { cookie: 'C1', keep: 1 }, sub: 'alice' };
    const before = JSON.stringify(fields);
    const out = censorSecrets(fields);
    assert.deepEqual(out, { list: [{ ticket: '[redacted]' }, 'plain'], nested: { cookie: '[redacted]', keep: 1 }, sub: 'alice' });
    assert.equal(JSON.stringify(fields), before, 'the logged object is copied, not censored in place');
    const clean = { a: { b: 1 }, c: [1] };
    assert.equal(censorSecrets(clean), clean, 'nothing to censor: no copy');
  });

  it('covers the secrets the server actually handles', () => {
    for (const name of [
      'ticket',
      'password',
      'authorization',
      'cookie',
      'set-cookie',
      'hws_session',
      'sid',
      'token',
      'adminToken',
      'metricsToken',
      'secret',
      'authVerifySecret',
      'redisUrl',
    ]) {
      assert.ok((secretFields as readonly string[]).includes(name), name);
    }
  });

  it('writes JSON lines with level and time', () => {
    const lines: string[] = [];
    createLogger('info', (line) => lines.push(line))
      .child({ conn: 'c1' })
      .info({ code: 1000 }, 'ws.close');
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual({ ...entry, time: typeof entry.time }, { level: 30, time: 'number', conn: 'c1', code: 1000, msg: 'ws.close' });
  });

  it('never writes a key twice: a child of a child, or a field named like a binding, keeps the innermost value', () => {
    const lines: string[] = [];
    const logger = createLogger('info', (line) => lines.push(line));
    logger.child({ component: 'redis' }).child({ component: 'redis-broker', connection: 'sub' }).info({}, 'redis.ready');
    logger.child({ component: 'admin' }).info({ component: 'metrics' }, 'x');
    for (const line of lines) assert.equal(line.match(/"component"/g)?.length, 1, line);
    assert.equal((JSON.parse(lines[0]!) as { component: string }).component, 'redis-broker');
    assert.equal((JSON.parse(lines[1]!) as { component: string }).component, 'metrics');
  });

  it('pretty: time level msg key=value, one line whatever the values hold', () => {
    const lines: string[] = [];
    createLogger('info', (line) => lines.push(line), 'pretty').warn(
      { limit: 'message_rate', code: 4429, origin: 'x\ny z', ticket: 't' },
      'limit.hit',
    );
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN {2}limit\.hit limit=message_rate code=4429 origin="x\\ny z" ticket=\[redacted\]\n$/,
    );
    assert.equal(prettyLine('{"level":30,"time":0,"msg":"a\\nb","n":null}'), '1970-01-01T00:00:00.000Z INFO  a b n=null\n');
  });
});

describe('assembled server: readiness, metrics route, request log', () => {
  const platform: Platform = {
    name: 'node',
    version: '20',
    socketRuntime: honoSocketRuntime(upgradeWebSocket),
    clientIp: () => '127.0.0.1',
    readStatic: async () => null,
    readTextFile: async () => '',
    listen: () => Promise.reject(new Error('not in unit tests')),
    onShutdownSignal: () => {},
    auditHost: () => Promise.reject(new Error('not in unit tests')),
    argv: [],
    env: {},
    writeStdout: () => {},
    writeStderr: () => {},
    exit: () => {
      throw new Error('exit');
    },
  };
  const configOf = (argv: string[]): Config => {
    const loaded = loadConfig(argv, {});
    assert.equal(loaded.kind, 'config');
    return (loaded as { config: Config }).config;
  };

  /** Readiness also waits for the revocation bus's subscription, a moment after assembly. */
  const ready = async (server: ReturnType<typeof assembleServer>) => {
    for (let i = 0; i < 50 && (await server.app.request('/readyz')).status !== 200; i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('/readyz is 200 until setDraining, then 503; /healthz stays 200', async () => {
    const server = assembleServer(configOf([]), platform, createLogger('silent'));
    await ready(server);
    assert.equal((await server.app.request('/readyz')).status, 200);
    server.setDraining();
    const res = await server.app.request('/readyz');
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { status: string }).status, 'draining');
    assert.equal((await server.app.request('/healthz')).status, 200);
    await server.close();
  });

  it('a refused WebSocket upgrade still carries the security headers and a request id', async () => {
    const server = assembleServer(configOf([]), platform, createLogger('silent'));
    server.listeningOn(8080);
    const res = await server.app.request('http://127.0.0.1:8080/ws', {
      headers: {
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        origin: 'http://evil.example',
      },
    });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('x-request-id') ?? '', /^[\w-]+$/);
    await server.close();
  });

  it('/metrics on the main port: absent without --metrics-token, bearer-protected with it', async () => {
    const plain = assembleServer(configOf([]), platform, createLogger('silent'));
    assert.equal((await plain.app.request('/metrics')).status, 404);
    await plain.close();
    const token = 't'.repeat(40);
    const guarded = assembleServer(configOf(['--metrics-token', token]), platform, createLogger('silent'));
    assert.equal((await guarded.app.request('/metrics')).status, 401);
    assert.equal((await guarded.app.request('/metrics', { headers: { authorization: `Bearer ${'t'.repeat(39)}u` } })).status, 401);
    const ok = await guarded.app.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^# HELP hws_/);
    await guarded.close();
  });

  it('logs http.request at debug with reqId, client IP, method, path, status and ms; not for static files', async () => {
    const lines: string[] = [];
    const server = assembleServer(
      configOf([]),
      platform,
      createLogger('debug', (line) => lines.push(line)),
    );
    await ready(server);
    lines.length = 0;
    const res = await server.app.request('/readyz?token=abc', {
      headers: { cookie: 'hws_session=zzz', 'x-request-id': 'from-the-proxy-1' },
    });
    assert.equal(res.headers.get('x-request-id'), 'from-the-proxy-1');
    await server.app.request('/index.html');
    await server.app.request('/', { headers: { 'x-request-id': 'bad id with spaces' } });
    const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'http.request');
    assert.equal(requests.length, 1, JSON.stringify(requests));
    const [line] = requests;
    assert.deepEqual(
      { ...line, time: 0, ms: typeof line!.ms },
      {
        level: 20,
        time: 0,
        reqId: 'from-the-proxy-1',
        ip: '127.0.0.1',
        method: 'GET',
        path: '/readyz',
        status: 200,
        ms: 'number',
        msg: 'http.request',
      },
    );
    assert.ok(!lines.join('').includes('zzz') && !lines.join('').includes('abc'));
    await server.close();
  });
});
