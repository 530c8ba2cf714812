import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import {
  ConnectionCounter,
  createAdmission,
  fixedServerNames,
  listenOrigins,
  literalServerNames,
  parseOriginPolicy,
} from '../../src/core/admission/index.ts';
import type { AdmissionOptions, Slot } from '../../src/core/admission/index.ts';
import { spyLogger, type LogEntry } from '../support/spy-logger.ts';

const IP = '10.0.0.1';

/** A Hono app with the admission middleware app-wide and a `/ws` route standing in for upgradeWebSocket. */
function setup(overrides: Partial<AdmissionOptions> = {}) {
  const clock = { t: 1_700_000_000_000 };
  const logs: LogEntry[] = [];
  const admission = createAdmission({
    allowedOrigins: 'https://app.example.com,http://localhost:8080',
    allowMissingOrigin: true,
    publicOrigins: 'https://app.example.com',
    maxConnections: 1_000,
    maxConnectionsPerIp: 100,
    upgradeRate: { perSecond: 1_000, burst: 1_000 },
    // The test's stand-in for getConnInfo: the client IP comes from a header only tests send.
    clientIp: (c) => c.req.header('x-test-ip') ?? null,
    logger: spyLogger(logs),
    now: () => clock.t,
    ...overrides,
  });
  const claimed: Slot[] = [];
  const app = new Hono();
  app.use('*', admission.middleware);
  app.get('/ws', (c) => {
    const slot = admission.claim(c);
    if (slot) claimed.push(slot);
    return c.text('would upgrade');
  });
  app.get('/refusing-ws', (c) => {
    admission.claim(c);
    return c.text('Upgrade Required', 426);
  });
  app.get('/throwing-ws', (c) => {
    admission.claim(c);
    throw new Error('handshake blew up');
  });
  app.get('/page', (c) => c.text('page'));

  const upgrade = (target = 'https://app.example.com/ws', headers: Record<string, string | null> = {}) => {
    const all: Record<string, string | null> = {
      upgrade: 'websocket',
      connection: 'Upgrade',
      'x-test-ip': IP,
      origin: 'https://app.example.com',
      ...headers,
    };
    const sent = new Headers();
    for (const [name, value] of Object.entries(all)) if (value !== null) sent.set(name, value);
    return app.request(target, { headers: sent });
  };
  /** One upgrade that reaches onOpen: claimed by the route, then opened. */
  const openSocket = async (headers: Record<string, string | null> = {}) => {
    const res = await upgrade(undefined, headers);
    assert.equal(res.status, 200, 'expected the upgrade to be admitted');
    const slot = claimed.at(-1);
    assert.ok(slot);
    assert.equal(slot.open(), true);
    return slot;
  };
  return { admission, app, clock, logs, claimed, upgrade, openSocket };
}

async function errorOf(res: Response): Promise<string> {
  const body = (await res.json()) as { error: string };
  return body.error;
}

describe('parseOriginPolicy', () => {
  it('normalises entries: lowercase host, default port dropped, trailing slash forgiven, IDN to punycode', () => {
    const policy = parseOriginPolicy(' HTTPS://App.Example.com:443/ , http://x.example:80, http://bücher.example, http://[::1]:8080 ');
    assert.deepEqual(
      [...policy.origins],
      ['https://app.example.com', 'http://x.example', 'http://xn--bcher-kva.example', 'http://[::1]:8080'],
    );
    assert.equal(policy.allowsAny, false);
    assert.equal(policy.allowsSelf, false);
  });

  it('recognises self and *', () => {
    const policy = parseOriginPolicy('self,*');
    assert.equal(policy.allowsSelf, true);
    assert.equal(policy.allowsAny, true);
  });

  for (const bad of [
    'https://app.example.com/app',
    'https://user:pw@app.example.com',
    'https://app.example.com?x=1',
    'https://app.example.com#frag',
    '*.example.com',
    'https://*.example.com',
    'null',
    'app.example.com',
    'chrome-extension://abcdef',
    'ftp://files.example.com',
    'http://app.example.com:99999',
  ]) {
    it(`rejects ${JSON.stringify(bad)} with an error naming it`, () => {
      assert.throws(
        () => parseOriginPolicy(`self,${bad}`),
        (error: Error) => error.message.includes(`"${bad}"`),
      );
    });
  }

  it('rejects an empty entry (stray comma)', () => {
    assert.throws(() => parseOriginPolicy('self,,https://a.example'), /empty entry/);
  });
});

describe('admission: Origin', () => {
  const forbidden: Record<string, string> = {
    'suffix trick': 'https://app.example.com.evil',
    'path trick': 'https://evil.com/app.example.com',
    'userinfo trick': 'https://app.example.com@evil.com',
    'backslash trick': 'https://evil.com\\@app.example.com',
    'null (sandboxed iframe, file:)': 'null',
    'other scheme': 'http://app.example.com',
    'other port': 'https://app.example.com:8443',
    'trailing slash': 'https://app.example.com/',
    'inner whitespace': 'https://app.example .com',
    'two values joined': 'https://app.example.com, https://evil.com',
    'homograph (Cyrillic а)': 'https://\u0430pp.example.com',
    'Unicode host sent raw': 'http://bücher.example',
    'trailing dot': 'https://app.example.com.',
    'websocket scheme': 'wss://app.example.com',
    'empty value': '',
    'opaque scheme': 'chrome-extension://app.example.com',
    'percent-escaped host': 'https://%61pp.example.com',
  };
  for (const [name, origin] of Object.entries(forbidden)) {
    it(`${name} → 403`, async () => {
      const { upgrade, admission } = setup({ allowedOrigins: 'https://app.example.com,http://localhost:8080,http://bücher.example' });
      // Header values must be ByteStrings: a raw Unicode Origin arrives as its UTF-8 bytes read as Latin-1.
      const wire = /[^ -~]/.test(origin) ? String.fromCharCode(...new TextEncoder().encode(origin)) : origin;
      const res = await upgrade(undefined, { origin: wire });
      assert.equal(res.status, 403);
      assert.equal(await errorOf(res), 'origin_forbidden');
      assert.equal(admission.stats().connections, 0);
    });
  }

  const allowed: Record<string, string> = {
    'exact https origin': 'https://app.example.com',
    'exact origin with port': 'http://localhost:8080',
    'uppercase host (same origin per RFC 6454)': 'https://APP.Example.COM',
    'explicit default port (same origin)': 'https://app.example.com:443',
    'punycode of a listed IDN': 'http://xn--bcher-kva.example',
  };
  for (const [name, origin] of Object.entries(allowed)) {
    it(`${name} → 200`, async () => {
      const { upgrade } = setup({ allowedOrigins: 'https://app.example.com,http://localhost:8080,http://bücher.example' });
      const res = await upgrade(undefined, { origin });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'would upgrade');
    });
  }

  it('policy.check refuses a non-ASCII host however it arrives (UTF-8 bytes or a Latin-1 byte)', () => {
    const policy = parseOriginPolicy('http://bücher.example');
    for (const origin of ['http://bücher.example', 'http://b\xfccher.example', 'http://b\xc3\xbccher.example']) {
      assert.equal(policy.check({ origin, allowMissing: true }), 'forbidden', JSON.stringify(origin));
    }
    assert.equal(policy.check({ origin: 'http://xn--bcher-kva.example', allowMissing: true }), 'ok');
  });

  it('a missing Origin is admitted by default and refused with allowMissingOrigin=false', async () => {
    assert.equal((await setup().upgrade(undefined, { origin: null })).status, 200);
    const res = await setup({ allowMissingOrigin: false }).upgrade(undefined, { origin: null });
    assert.equal(res.status, 403);
    assert.equal(await errorOf(res), 'origin_missing');
  });

  it('* admits any Origin and says so for the startup warning', async () => {
    const { upgrade, admission } = setup({ allowedOrigins: '*' });
    assert.equal(admission.policy.allowsAny, true);
    for (const origin of ['https://evil.com', 'null', 'http://anything:1234'])
      assert.equal((await upgrade(undefined, { origin })).status, 200);
  });

  it('self = the configured public origins, whichever of them the Host names; never the Host itself', async () => {
    const { upgrade } = setup({ allowedOrigins: 'self', publicOrigins: 'https://chat.example.com, http://127.0.0.1:8080' });
    const target = 'https://chat.example.com/ws';
    assert.equal((await upgrade(target, { host: 'chat.example.com', origin: 'https://chat.example.com' })).status, 200);
    assert.equal((await upgrade(target, { host: 'chat.example.com:443', origin: 'https://chat.example.com:443' })).status, 200);
    assert.equal(
      (await upgrade(target, { host: 'CHAT.example.com', origin: 'http://127.0.0.1:8080' })).status,
      200,
      'another of its own origins',
    );
    assert.equal((await upgrade(target, { host: 'chat.example.com', origin: 'http://chat.example.com' })).status, 403, 'scheme differs');
    assert.equal(
      (await upgrade(target, { host: 'chat.example.com', origin: 'https://chat.example.com:8443' })).status,
      403,
      'port differs',
    );
  });

  it('behind TLS termination: the server sees http, self is the configured https origin', async () => {
    const { upgrade } = setup({ allowedOrigins: 'self', publicOrigins: 'https://chat.example.com' });
    assert.equal(
      (await upgrade('http://chat.example.com/ws', { host: 'chat.example.com', origin: 'https://chat.example.com' })).status,
      200,
    );
    assert.equal(
      (await upgrade('http://chat.example.com/ws', { host: 'chat.example.com', origin: 'http://chat.example.com' })).status,
      403,
    );
  });

  it('DNS rebinding: Host evil.example with Origin http://evil.example → 421 unknown_host, never a 101', async () => {
    for (const publicOrigins of ['http://127.0.0.1:8080', undefined]) {
      const { upgrade, admission } = setup({ allowedOrigins: 'self', ...(publicOrigins ? { publicOrigins } : {}) });
      const res = await upgrade('http://evil.example:8080/ws', { host: 'evil.example:8080', origin: 'http://evil.example:8080' });
      assert.equal(res.status, 421, String(publicOrigins));
      assert.equal(await res.text(), '{"error":"unknown_host"}');
      assert.equal(admission.stats().connections, 0);
    }
  });

  it('a Host naming none of the public origins → 421, whatever the Origin', async () => {
    const { upgrade } = setup({ publicOrigins: 'https://app.example.com' });
    for (const host of ['app.example.com:8443', 'www.app.example.com', 'app.example.com.evil', '127.0.0.1']) {
      assert.equal((await upgrade(`https://${host}/ws`, { host })).status, 421, host);
    }
  });

  it('without public origins: IP literals and localhost are served, self being the addressed origin; DNS names get 421', async () => {
    const { upgrade } = setup({ allowedOrigins: 'self', publicOrigins: undefined });
    const at = (authority: string, origin: string | null, scheme = 'http') =>
      upgrade(`${scheme}://${authority}/ws`, { host: authority, origin });
    assert.equal((await at('127.0.0.1:8080', 'http://127.0.0.1:8080')).status, 200);
    assert.equal((await at('localhost:3000', 'http://localhost:3000')).status, 200);
    assert.equal((await at('[::1]:8080', 'http://[::1]:8080')).status, 200);
    assert.equal((await at('10.1.2.3', 'https://10.1.2.3', 'https')).status, 200);
    assert.equal((await at('127.0.0.1:8080', 'http://127.0.0.1')).status, 403, 'another port is another origin');
    assert.equal((await at('127.0.0.1:8080', 'http://localhost:8080')).status, 403, 'another name is another origin');
    for (const host of ['chat.example.com', 'localhost.evil.example', '127.0.0.1.nip.io:8080', 'sub.localhost']) {
      assert.equal((await at(host, `http://${host}`)).status, 421, host);
    }
    // Without a Host header (HTTP/1.0) the URL's authority is checked instead.
    assert.equal((await upgrade('http://127.0.0.1:8080/ws', { host: null, origin: 'http://127.0.0.1:8080' })).status, 200);
  });

  it('self with an explicit list: both apply', async () => {
    const { upgrade } = setup({ allowedOrigins: 'self, https://app.example.com', publicOrigins: 'http://127.0.0.1:8080' });
    assert.equal((await upgrade('http://127.0.0.1:8080/ws', { host: '127.0.0.1:8080', origin: 'https://app.example.com' })).status, 200);
    assert.equal((await upgrade('http://127.0.0.1:8080/ws', { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' })).status, 200);
  });

  it('a bad public origin is refused at creation, naming it', () => {
    for (const bad of ['self', 'https://app.example.com/path', 'app.example.com', '*']) {
      assert.throws(
        () => setup({ publicOrigins: bad }),
        (error: Error) => error.message.startsWith('public-origin:') && error.message.includes(`"${bad}"`),
        bad,
      );
    }
  });

  it('the refusal body never echoes the Origin', async () => {
    const res = await setup().upgrade(undefined, { origin: 'https://evil.example' });
    const text = await res.text();
    assert.equal(text, '{"error":"origin_forbidden"}');
  });
});

describe('admission: sharedOrigin', () => {
  it('gives an equal string for an allowlisted Origin and the header itself for any other', () => {
    const { admission } = setup();
    assert.equal(admission.sharedOrigin('https://app.example.com'), 'https://app.example.com');
    assert.equal(admission.sharedOrigin('http://localhost:8080'), 'http://localhost:8080');
    // Only an exact match: an equivalent spelling stays as the client sent it.
    assert.equal(admission.sharedOrigin('HTTPS://APP.EXAMPLE.COM'), 'HTTPS://APP.EXAMPLE.COM');
    assert.equal(admission.sharedOrigin('https://evil.example'), 'https://evil.example');
  });
});

describe('admission: request target and Upgrade header', () => {
  it('GET //evil.com/ws → 403 (the middleware is app-wide: no /ws route matches this path)', async () => {
    const { upgrade } = setup();
    const res = await upgrade('https://app.example.com//evil.com/ws', { host: 'app.example.com' });
    assert.equal(res.status, 403);
    assert.equal(await errorOf(res), 'bad_request_target');
  });

  for (const path of ['/%2F%2Fevil.com/ws', '/%5cevil.com/ws', '///ws']) {
    it(`GET ${path} → 403`, async () => {
      assert.equal((await setup().upgrade(`https://app.example.com${path}`, { host: 'app.example.com' })).status, 403);
    });
  }

  it('an absolute-form target naming another host than Host → 403; the same host passes', async () => {
    const { upgrade } = setup();
    // Node and Deno build c.req.url from an absolute-form target; Host stays what the client sent.
    const res = await upgrade('http://evil.com/ws', { host: 'app.example.com' });
    assert.equal(res.status, 403);
    assert.equal(await errorOf(res), 'bad_request_target');
    assert.equal((await upgrade('https://app.example.com:443/ws', { host: 'APP.example.com' })).status, 200);
    assert.equal((await upgrade('https://app.example.com/ws', { host: 'app.example.com@evil.com' })).status, 403);
  });

  it('Upgrade: h2c → 400 with Connection: close', async () => {
    const { upgrade } = setup();
    const res = await upgrade(undefined, { upgrade: 'h2c' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('connection'), 'close');
    assert.equal(await errorOf(res), 'bad_upgrade');
    assert.equal((await upgrade(undefined, { upgrade: 'websocket, h2c' })).status, 400);
  });

  it('the Upgrade value compares case-insensitively', async () => {
    assert.equal((await setup().upgrade(undefined, { upgrade: 'WebSocket' })).status, 200);
  });

  it('requests without Upgrade pass through untouched and hold nothing', async () => {
    const { app, admission } = setup({ allowMissingOrigin: false });
    const res = await app.request('https://app.example.com/page', { headers: { origin: 'https://evil.com', 'x-test-ip': IP } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'page');
    assert.equal(admission.stats().connections, 0);
  });
});

describe('admission: connection caps', () => {
  it('per-IP cap → 429 with Retry-After; other IPs unaffected; after a release → 200', async () => {
    const { upgrade, openSocket, admission } = setup({ maxConnectionsPerIp: 2 });
    const first = await openSocket();
    await openSocket();
    const refused = await upgrade();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(await errorOf(refused), 'too_many_connections');
    assert.equal((await upgrade(undefined, { 'x-test-ip': '10.0.0.2' })).status, 200);
    first.release();
    assert.equal((await upgrade()).status, 200);
    assert.equal(admission.stats().trackedIps, 2);
  });

  it('global cap → 503 with Retry-After', async () => {
    const { upgrade, openSocket } = setup({ maxConnections: 2 });
    await openSocket({ 'x-test-ip': '10.0.0.1' });
    await openSocket({ 'x-test-ip': '10.0.0.2' });
    const refused = await upgrade(undefined, { 'x-test-ip': '10.0.0.3' });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(await errorOf(refused), 'server_full');
  });

  it('an unknown client IP counts only globally (no per-IP cap, no per-IP rate)', async () => {
    const { upgrade, admission } = setup({ maxConnectionsPerIp: 1, upgradeRate: { perSecond: 1, burst: 1 } });
    for (let i = 0; i < 3; i += 1) assert.equal((await upgrade(undefined, { 'x-test-ip': null })).status, 200);
    assert.deepEqual(admission.stats(), { connections: 3, pending: 3, trackedIps: 0 });
  });

  it('release is idempotent (Deno fires onClose twice) and never drives counts negative', async () => {
    const { openSocket, admission } = setup();
    const slot = await openSocket();
    slot.release();
    slot.release();
    assert.deepEqual(admission.stats(), { connections: 0, pending: 0, trackedIps: 0 });
    assert.equal(slot.open(), false, 'a released slot cannot be re-opened');
    assert.equal(admission.stats().connections, 0);
  });
});

describe('admission: slots of upgrades that never open', () => {
  it('is given back at once when the request did not reach the WebSocket route', async () => {
    const { upgrade, admission } = setup();
    assert.equal((await upgrade('https://app.example.com/page')).status, 200);
    assert.equal((await upgrade('https://app.example.com/nowhere')).status, 404);
    assert.equal(admission.stats().connections, 0);
  });

  it('is given back at once when the route answered with an error (426, 500)', async () => {
    const { upgrade, admission } = setup();
    assert.equal((await upgrade('https://app.example.com/refusing-ws')).status, 426);
    assert.equal((await upgrade('https://app.example.com/throwing-ws')).status, 500);
    assert.equal(admission.stats().connections, 0);
  });

  it('lapses after pendingTimeoutMs when onOpen never comes (failed handshake)', async () => {
    const { upgrade, clock, admission, claimed } = setup({ maxConnections: 1, pendingTimeoutMs: 10_000 });
    assert.equal((await upgrade()).status, 200);
    assert.equal(admission.stats().pending, 1);
    clock.t += 9_999;
    assert.equal((await upgrade()).status, 503);
    clock.t += 1;
    assert.equal((await upgrade()).status, 200, 'the lapsed slot was swept and reused');
    assert.equal(admission.stats().connections, 1);
    // The first handshake finally opens, late: no room any more, so the gateway must close it.
    assert.equal(claimed[0]?.open(), false);
    assert.equal(claimed[1]?.open(), true);
    claimed[1]?.release();
    assert.deepEqual(admission.stats(), { connections: 0, pending: 0, trackedIps: 0 });
  });

  it('a lapsed slot opening late takes a fresh slot when there is room', async () => {
    const { upgrade, clock, admission, claimed } = setup({ pendingTimeoutMs: 1_000 });
    await upgrade();
    clock.t += 1_000;
    await upgrade('https://app.example.com/page'); // any upgrade attempt sweeps
    assert.equal(admission.stats().connections, 0);
    assert.equal(claimed[0]?.open(), true);
    assert.equal(admission.stats().connections, 1);
    claimed[0]?.release();
    assert.equal(admission.stats().connections, 0);
  });
});

describe('admission: upgrade rate', () => {
  it('429 with Retry-After = ceil(retryAfterMs / 1000), and recovery once the clock advances', async () => {
    const { upgrade, clock, admission } = setup({ upgradeRate: { perSecond: 0.25, burst: 2 } });
    assert.equal((await upgrade()).status, 200);
    assert.equal((await upgrade()).status, 200);
    const refused = await upgrade();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '4');
    assert.equal(await errorOf(refused), 'upgrade_rate');
    assert.equal(admission.stats().connections, 2, 'the refused upgrade holds no slot');
    clock.t += 2_500;
    assert.equal((await upgrade()).headers.get('retry-after'), '2', '1.5 s still missing rounds up to 2');
    assert.equal((await upgrade(undefined, { 'x-test-ip': '10.0.0.9' })).status, 200, 'buckets are per IP');
    clock.t += 1_500;
    assert.equal((await upgrade()).status, 200);
  });
});

describe('admission: audit log', () => {
  it('logs every refusal with its reason, ip and origin, and no cookie or authorization value', async () => {
    const { upgrade, openSocket, logs } = setup({
      allowMissingOrigin: false,
      maxConnectionsPerIp: 1,
      maxConnections: 2,
      upgradeRate: { perSecond: 0.1, burst: 2 },
    });
    const secrets = {
      cookie: 'session=COOKIE-SECRET-123',
      authorization: 'Bearer AUTH-SECRET-456',
      'sec-websocket-protocol': 'ticket.PROTO-SECRET-789',
    };
    await upgrade('https://app.example.com//evil.com/ws', { ...secrets, host: 'app.example.com' });
    await upgrade(undefined, { ...secrets, upgrade: 'h2c' });
    await upgrade(undefined, { ...secrets, origin: null });
    await upgrade(undefined, { ...secrets, origin: 'https://evil.example' });
    await openSocket({ 'x-test-ip': '10.0.0.1' });
    await upgrade(undefined, { ...secrets, 'x-test-ip': '10.0.0.1' });
    await openSocket({ 'x-test-ip': '10.0.0.2' });
    await upgrade(undefined, { ...secrets, 'x-test-ip': '10.0.0.3' });
    // Rate: a fresh IP with room (release one) spends its burst of 2, the third is refused.
    const { upgrade: upgrade2, logs: logs2 } = setup({ upgradeRate: { perSecond: 0.1, burst: 2 } });
    for (let i = 0; i < 3; i += 1) await upgrade2(undefined, secrets);
    const all = [...logs, ...logs2];

    assert.deepEqual(
      all.map((entry) => [entry.message, entry.fields.reason]),
      [
        ['upgrade.refused', 'bad_request_target'],
        ['upgrade.refused', 'bad_upgrade'],
        ['upgrade.refused', 'origin_missing'],
        ['upgrade.refused', 'origin_forbidden'],
        ['limit.hit', 'too_many_connections'],
        ['limit.hit', 'server_full'],
        ['limit.hit', 'upgrade_rate'],
      ],
    );
    for (const entry of all) {
      assert.deepEqual(Object.keys(entry.fields).sort(), ['ip', 'origin', 'reason', 'status']);
      assert.equal(entry.level, 'warn');
    }
    assert.equal(all[3]?.fields.origin, 'https://evil.example');
    assert.equal(all[4]?.fields.ip, '10.0.0.1');
    const text = JSON.stringify(all);
    for (const secret of ['COOKIE-SECRET-123', 'AUTH-SECRET-456', 'PROTO-SECRET-789'])
      assert.ok(!text.includes(secret), `${secret} leaked into the log`);
  });

  it('truncates a huge Origin in the log', async () => {
    const { upgrade, logs } = setup();
    await upgrade(undefined, { origin: `https://${'a'.repeat(5_000)}.example` });
    assert.equal(String(logs[0]?.fields.origin).length, 256);
  });
});

describe('ConnectionCounter', () => {
  it('keeps memory bounded: per-IP entries are deleted at zero', () => {
    const counter = new ConnectionCounter({ maxConnections: 100_000, maxConnectionsPerIp: 4 });
    for (let i = 0; i < 10_000; i += 1) assert.equal(counter.tryAcquire(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`), 'ok');
    assert.equal(counter.trackedIps, 10_000);
    for (let i = 0; i < 10_000; i += 1) counter.release(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    assert.equal(counter.trackedIps, 0);
    assert.equal(counter.total, 0);
  });

  it('counts an address through its shared string: up to the cap, down to no entry, and again', () => {
    const counter = new ConnectionCounter({ maxConnections: 100, maxConnectionsPerIp: 3 });
    for (let round = 0; round < 2; round += 1) {
      for (let held = 1; held <= 3; held += 1) {
        assert.equal(counter.tryAcquire('10.0.0.1'), 'ok');
        assert.equal(counter.countFor('10.0.0.1'), held);
        assert.equal(counter.shared('10.0.0.1'), '10.0.0.1');
      }
      assert.equal(counter.tryAcquire('10.0.0.1'), 'ip_full');
      for (let held = 2; held >= 0; held -= 1) {
        counter.release('10.0.0.1');
        assert.equal(counter.countFor('10.0.0.1'), held);
      }
      counter.release('10.0.0.1'); // extra: ignored
      assert.equal(counter.trackedIps, 0);
      assert.equal(counter.total, 0);
    }
  });

  it('checks the global cap before the per-IP cap and counts a null IP only globally', () => {
    const counter = new ConnectionCounter({ maxConnections: 3, maxConnectionsPerIp: 1 });
    assert.equal(counter.tryAcquire('a'), 'ok');
    assert.equal(counter.tryAcquire('a'), 'ip_full');
    assert.equal(counter.tryAcquire(null), 'ok');
    assert.equal(counter.tryAcquire(null), 'ok');
    assert.equal(counter.tryAcquire('a'), 'global_full');
    assert.equal(counter.tryAcquire('b'), 'global_full');
    assert.equal(counter.trackedIps, 1);
    counter.release(null);
    assert.equal(counter.tryAcquire('b'), 'ok');
    assert.equal(counter.countFor('b'), 1);
  });

  it('ignores releases that were never acquired', () => {
    const counter = new ConnectionCounter({ maxConnections: 10, maxConnectionsPerIp: 10 });
    counter.release('nobody');
    counter.release(null);
    assert.equal(counter.total, 0);
    assert.equal(counter.trackedIps, 0);
  });
});

describe('server names', () => {
  it('a listener answers its address and port, plus localhost when it is loopback; a wildcard names nothing', () => {
    assert.deepEqual(listenOrigins('127.0.0.1', 8080, false), ['http://127.0.0.1:8080', 'http://localhost:8080']);
    assert.deepEqual(listenOrigins('::1', 9000, true), ['https://[::1]:9000', 'https://localhost:9000']);
    assert.deepEqual(listenOrigins('localhost', 80, false), ['http://localhost:80', 'http://127.0.0.1:80', 'http://[::1]:80']);
    assert.deepEqual(listenOrigins('192.168.1.5', 8080, false), ['http://192.168.1.5:8080']);
    for (const wildcard of ['0.0.0.0', '::', '[::]']) assert.equal(listenOrigins(wildcard, 8080, false), null);
  });

  it('fixed names accept a Host with or without the default port, case-insensitively, and nothing else', () => {
    const names = fixedServerNames('https://chat.example.com,http://127.0.0.1:8080');
    for (const host of ['chat.example.com', 'CHAT.example.com:443', '127.0.0.1:8080'])
      assert.equal(names.acceptsHost(host, 'http:'), true, host);
    for (const host of [
      'chat.example.com:80',
      'chat.example.com:8443',
      '127.0.0.1',
      '127.0.0.1:80',
      'evil.example',
      'chat.example.com@evil.example',
      '',
    ]) {
      assert.equal(names.acceptsHost(host, 'http:'), false, host);
    }
    assert.equal(names.isSelf('https://chat.example.com', 'evil.example', 'http:'), true);
    assert.equal(names.isSelf('http://evil.example', 'evil.example', 'http:'), false);
  });

  it('literal names never accept a DNS name, whatever it resolves to', () => {
    const names = literalServerNames();
    for (const host of ['127.0.0.1', '10.0.0.5:8080', '[2001:db8::1]:443', 'LOCALHOST:3000'])
      assert.equal(names.acceptsHost(host, 'http:'), true, host);
    for (const host of ['evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', 'xn--localhost', '0x7f.evil'])
      assert.equal(names.acceptsHost(host, 'http:'), false, host);
  });
});
