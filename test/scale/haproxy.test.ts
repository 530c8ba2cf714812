/**
 * The shipped load-balancer example (deploy/haproxy.cfg), validated with `haproxy -c` and run for
 * real in front of two instances (Node and Bun) sharing one redis-server. The client talks to
 * HAProxy from 127.0.0.2; HAProxy reaches the instances from 127.0.0.1, which they trust
 * (--trust-proxy), so they must see the client as 127.0.0.2 via X-Forwarded-For.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../support/server-process.ts';
import { freePort, startRedis, type RedisServer } from '../support/redis-server.ts';
import { CLIENT_ADDRESS, LbSocket, lbRequest } from './lb-client.ts';
import {
  OPEN_LIMITS,
  assertCleanOutput,
  call,
  deliveries,
  demoUsers,
  sleep,
  startInstance,
  subscribe,
  until,
  waitForReady,
  type Instance,
} from './support.ts';

const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy';
const SHIPPED = path.join(projectRoot, 'deploy/haproxy.cfg');
const USERS = ['lb1', 'lb2', 'lb3'];

/** The shipped file with its placeholders replaced; fails if a placeholder went missing. */
function render(values: Record<string, string>): string {
  let text = readFileSync(SHIPPED, 'utf8');
  for (const [placeholder, value] of Object.entries(values)) {
    assert.ok(text.includes(placeholder), `deploy/haproxy.cfg has no ${placeholder}`);
    text = text.replaceAll(placeholder, value);
  }
  return text;
}

describe('HAProxy (deploy/haproxy.cfg) in front of two instances', () => {
  let redis: RedisServer;
  let app1: Instance;
  let app2: Instance;
  let lbOrigin: string;
  let haproxy: ChildProcess | undefined;
  let haproxyOutput = '';
  let dir: string;
  const sockets: LbSocket[] = [];

  const lb = {
    login: async (user: string, headers: Record<string, string> = {}) => {
      const res = await lbRequest(`${lbOrigin}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: lbOrigin, ...headers },
        body: JSON.stringify({ username: user, password: `pw-${user}` }),
      });
      assert.equal(res.status, 204, `login through haproxy: ${res.status} ${res.body}`);
      return String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    },
    ticket: async (cookie: string) => {
      const res = await lbRequest(`${lbOrigin}/auth/ticket`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: lbOrigin, cookie },
        body: '{}',
      });
      assert.equal(res.status, 201, `ticket through haproxy: ${res.status} ${res.body}`);
      return res.json<{ ticket: string }>().ticket;
    },
    socket: async (cookie: string) => {
      const tk = await lb.ticket(cookie);
      const socket = new LbSocket(`${lbOrigin.replace('http', 'ws')}/ws`, { origin: lbOrigin });
      sockets.push(socket);
      await socket.opened;
      socket.send({ type: 'auth', ticket: tk });
      const first = await socket.message(0);
      assert.equal(first.type, 'auth.ok', JSON.stringify(first));
      return socket;
    },
  };

  /** Which instance logged an authentication since `marks` (counts of lines taken before). */
  const authedSince = (marks: Map<Instance, number>): Instance[] =>
    [app1, app2].filter((instance) =>
      instance.server
        .logs()
        .slice(marks.get(instance))
        .some((line) => line.msg === 'auth.ok'),
    );
  /** Instances whose log has an auth.ok since `marks`. The client can see auth.ok before the test has read the server's stdout. */
  const landedOn = async (marks: Map<Instance, number>): Promise<Instance[]> => {
    await until(() => authedSince(marks).length > 0, 5_000, 'an auth.ok line');
    return authedSince(marks);
  };
  const mark = () => new Map([app1, app2].map((instance) => [instance, instance.server.logs().length]));

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hws-haproxy-'));
    redis = await startRedis();
    const lbPort = await freePort();
    lbOrigin = `http://127.0.0.1:${lbPort}`;
    // A short drain, held open in 9c by a socket that never answers the close. Behind the proxy the
    // instances are reached at the proxy's origin: their public origin (Host check, "self").
    const args = [
      '--redis-url',
      redis.url,
      ...OPEN_LIMITS,
      '--trust-proxy',
      '127.0.0.1',
      '--public-origin',
      lbOrigin,
      '--allowed-origins',
      'self',
      '--drain-timeout',
      '5s',
      '--demo-users',
      demoUsers(USERS),
    ];
    [app1, app2] = await Promise.all([startInstance('app1', 'node', args), startInstance('app2', 'bun', args)]);
    await Promise.all([waitForReady(app1), waitForReady(app2)]);

    const rendered = path.join(dir, 'haproxy.cfg');
    writeFileSync(
      rendered,
      render({ '${APP1}': `127.0.0.1:${app1.port}`, '${APP2}': `127.0.0.1:${app2.port}`, '${LB_BIND-:8080}': `127.0.0.1:${lbPort}` }),
    );
    const check = spawnSync(HAPROXY, ['-c', '-f', rendered], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(check.status, 0, `haproxy -c on the rendered copy:\n${check.stdout}${check.stderr}`);

    haproxy = spawn(HAPROXY, ['-db', '-f', rendered], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.setEncoding('utf8').on('data', (chunk: string) => (haproxyOutput += chunk));
    haproxy.stderr!.setEncoding('utf8').on('data', (chunk: string) => (haproxyOutput += chunk));
    await waitForReady({ origin: lbOrigin }, 200, 10_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nhaproxy output:\n${haproxyOutput}`);
    });
  });

  after(async () => {
    for (const socket of sockets) socket.raw.terminate();
    if (haproxy !== undefined && haproxy.exitCode === null && haproxy.signalCode === null) {
      const exited = once(haproxy, 'exit');
      haproxy.kill('SIGTERM');
      const timer = setTimeout(() => haproxy?.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await Promise.all([app1?.server.stop(), app2?.server.stop()]);
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('9a. the shipped file as-is is valid (haproxy -c) with its placeholders set from the environment', () => {
    const check = spawnSync(HAPROXY, ['-c', '-f', SHIPPED], {
      encoding: 'utf8',
      timeout: 10_000,
      env: { ...process.env, APP1: '127.0.0.1:18081', APP2: '127.0.0.1:18082' },
    });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout + check.stderr, /Configuration file is valid/);
    // …and refuses to start without them, rather than pointing at nothing.
    const env = { ...process.env };
    delete env.APP1;
    delete env.APP2;
    assert.notEqual(spawnSync(HAPROXY, ['-c', '-f', SHIPPED], { encoding: 'utf8', timeout: 10_000, env }).status, 0);
  });

  it('9b. login, ticket, socket, echo and cross-instance pub/sub through haproxy; the instances see the client IP', async () => {
    // Logins with a client-written X-Forwarded-For until both instances (Node and Bun) have served one:
    // each must log the client's address (not the proxy's 127.0.0.1, not the spoofed leftmost hop).
    const loginsOn = (instance: Instance) => instance.server.logs().filter((line) => line.msg === 'login.ok' && line.sub === 'lb1');
    let cookie = '';
    for (let i = 0; i < 10 && (i === 0 || loginsOn(app1).length === 0 || loginsOn(app2).length === 0); i++) {
      cookie = await lb.login('lb1', { 'x-forwarded-for': '203.0.113.9' });
    }
    for (const instance of [app1, app2]) {
      const ips = loginsOn(instance).map((line) => line.ip);
      assert.ok(ips.length > 0, `no login reached ${instance.name}`);
      assert.ok(
        ips.every((ip) => ip === CLIENT_ADDRESS),
        `${instance.name} (${instance.runtime}) saw ${JSON.stringify(ips)}`,
      );
    }

    // Two sockets one after the other: leastconn sends the second to the instance without one.
    let marks = mark();
    const first = await lb.socket(cookie);
    const firstOn = await landedOn(marks);
    marks = mark();
    const second = await lb.socket(cookie);
    const secondOn = await landedOn(marks);
    assert.equal(firstOn.length, 1, 'the first socket authenticated on exactly one instance');
    assert.equal(secondOn.length, 1, 'the second socket authenticated on exactly one instance');
    assert.notEqual(firstOn[0], secondOn[0], 'the two sockets landed on different instances');
    console.log(
      `# haproxy: first socket on ${firstOn[0]!.name} (${firstOn[0]!.runtime}), second on ${secondOn[0]!.name} (${secondOn[0]!.runtime})`,
    );

    assert.deepEqual(await call(first, { type: 'echo', id: 1, data: 'through the proxy' }), {
      type: 'echo',
      id: 1,
      data: 'through the proxy',
    });
    await subscribe(first, 'chat:lb');
    const ok = await call(second, { type: 'publish', id: 2, channel: 'chat:lb', data: 'across instances' });
    assert.deepEqual(ok, { type: 'ok', id: 2, offset: 1, epoch: ok.epoch });
    await until(() => deliveries(first, 'chat:lb').length === 1, 5_000, 'the cross-instance delivery');
    assert.deepEqual(deliveries(first, 'chat:lb'), [
      { type: 'message', channel: 'chat:lb', data: 'across instances', from: 'lb1', offset: 1, epoch: ok.epoch },
    ]);
  });

  it('9c. while one instance drains, and once it has stopped, new connections succeed through the other', async () => {
    const cookie = await lb.login('lb2');
    const stopped = app1;
    const survivor = app2;
    const onStopped = sockets.filter((s) => s.raw.readyState === s.raw.OPEN);
    // A socket straight to app1 that never answers the close keeps its drain going for 5 s, while
    // HAProxy still thinks app1 is up (checks every 2 s, down after 2 failures) and leastconn
    // prefers it: it has just closed its sockets.
    const stubborn = net.connect(stopped.port, '127.0.0.1');
    stubborn.on('error', () => {});
    await once(stubborn, 'connect');
    // Its Host is the public origin's (--public-origin), as through the proxy.
    stubborn.write(
      `GET /ws HTTP/1.1\r\nHost: ${new URL(lbOrigin).host}\r\nOrigin: ${lbOrigin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const [head] = (await once(stubborn, 'data')) as [Buffer];
    assert.match(head.toString('latin1'), /^HTTP\/1\.1 101/);
    stubborn.pause();
    const exited = stopped.server.stop('SIGTERM');
    await until(() => stopped.server.logs().some((line) => line.msg === 'shutdown.start'), 5_000, 'shutdown.start');
    const drainingFrom = stopped.server.logs().length;
    // The sockets on the stopped instance were closed 1001 (drain); those on the survivor stay.
    const codes = await Promise.all(onStopped.map((s) => Promise.race([s.closed.then((c) => c.code), sleep(300).then(() => 'open')])));
    assert.deepEqual([...codes].sort(), [1001, 'open'], JSON.stringify(codes));

    // Reconnects during the drain: each one (its ticket request too) lands on the survivor; the
    // draining instance's 503s are retried there by HAProxy, so no client sees an error.
    let duringDrain = 0;
    for (; duringDrain < 6 && stopped.server.child.exitCode === null; duringDrain++) {
      const marks = mark();
      const socket = await lb.socket(cookie);
      assert.deepEqual(await landedOn(marks), [survivor], `reconnect ${duringDrain} during the drain`);
      socket.close();
    }
    assert.ok(duringDrain >= 3, `only ${duringDrain} reconnects happened while app1 was still draining`);
    const acceptedWhileDraining = stopped.server
      .logs()
      .slice(drainingFrom)
      .filter((line) => line.msg === 'auth.ok');
    assert.deepEqual(acceptedWhileDraining, [], 'the draining instance started nothing');
    stubborn.destroy();
    assert.equal(await exited, 0);

    // Once it has exited (refused connections are retried elsewhere before the health check notices), and again.
    for (let i = 0; i < 4; i++) {
      const marks = mark();
      const socket = await lb.socket(i % 2 === 0 ? cookie : await lb.login('lb3'));
      assert.deepEqual(await landedOn(marks), [survivor]);
      assert.deepEqual(await call(socket, { type: 'ping', id: i }), { type: 'pong', id: i });
      socket.close();
    }
    assertCleanOutput(survivor);
    assert.doesNotMatch(haproxyOutput, /\[ALERT\]/, haproxyOutput);
  });
});
