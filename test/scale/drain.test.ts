/**
 * A draining instance starts nothing it would cut. From the first moment of
 * a drain (SIGTERM), upgrades, logins and ticket requests get 503 with Retry-After, and the sockets
 * it had are closed with 1001 and a retry hint, never a bare 1006. Real server processes on Node,
 * Bun and Deno; the drain is held open by a raw socket that never answers the server's close.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import { ticket } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { startServer, type RuntimeTarget, type ServerProcess } from '../support/server-process.ts';
import { OPEN_LIMITS, authenticatedOn, demoUsers, loginAs, until } from './support.ts';

const json = { 'content-type': 'application/json' };

/** What a client trying to open a socket saw: the upgrade's status, and after a 101 what came next. */
interface Attempt {
  readonly status: number;
  readonly retryAfter?: string;
  readonly first?: string;
  readonly closeCode?: number;
}

/** Opens a socket and authenticates with `tk`; a 101 is followed until the socket closes. */
function attemptSocket(wsUrl: string, tk: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, { handshakeTimeout: 5_000 });
    let first: string | undefined;
    ws.on('unexpected-response', (_req, res) => {
      const header = res.headers['retry-after'];
      resolve({ status: res.statusCode ?? 0, ...(header === undefined ? {} : { retryAfter: String(header) }) });
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', ticket: tk })));
    ws.on('message', (data) => (first ??= String((JSON.parse(String(data)) as { type?: unknown }).type)));
    ws.on('close', (code) => resolve({ status: 101, ...(first === undefined ? {} : { first }), closeCode: code }));
    ws.on('error', () => resolve({ status: 0 })); // refused: the process has already closed its listener
  });
}

/** A raw upgrade that then stops reading: it never answers the server's close frame, so the drain lasts. */
async function stubbornSocket(port: number): Promise<net.Socket> {
  const raw = net.connect(port, '127.0.0.1');
  raw.on('error', () => {});
  await new Promise((resolve) => raw.once('connect', resolve));
  raw.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve) => raw.once('data', (data: Buffer) => resolve(data.toString('latin1'))));
  assert.match(head, /^HTTP\/1\.1 101/);
  raw.pause();
  return raw;
}

for (const runtime of ['node', 'bun', 'deno'] as const satisfies readonly RuntimeTarget[]) {
  describe(`${runtime}: a draining server starts nothing it would cut`, () => {
    let server: ServerProcess | undefined;
    const raws: net.Socket[] = [];
    after(async () => {
      for (const raw of raws) raw.destroy();
      await server?.stop('SIGKILL');
    });

    it('from shutdown.start: upgrades, logins and tickets 503 + Retry-After; the open socket closes 1001 with a retry hint; exit 0', async () => {
      server = await startServer(runtime, {
        args: [...OPEN_LIMITS, '--drain-timeout', '4s', '--demo-users', demoUsers(['drain']), '--log-level', 'info'],
      });
      const target = { origin: server.origin, wsUrl: server.wsUrl };
      const cookie = await loginAs(target, 'drain');
      const open = await authenticatedOn('drain', target, target, target, cookie);
      const spare = await ticket(target, cookie); // a client that fetched its ticket just before the drain
      raws.push(await stubbornSocket(server.port));

      const exited = server.stop('SIGTERM');
      await until(() => server!.logs().some((line) => line.msg === 'shutdown.start'), 5_000, 'shutdown.start');
      const [upgrade, loginRes, ticketRes, health, ready] = await Promise.all([
        attemptSocket(server.wsUrl, spare),
        request(`${server.origin}/auth/login`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ username: 'drain', password: 'pw-drain' }),
        }).catch(() => null),
        request(`${server.origin}/auth/ticket`, { method: 'POST', headers: { ...json, cookie }, body: '{}' }).catch(() => null),
        request(`${server.origin}/healthz`).catch(() => null),
        request(`${server.origin}/readyz`).catch(() => null),
      ]);
      const closed = await open.closeCode();
      const code = await exited;
      console.log(
        `# ${runtime} draining: upgrade ${JSON.stringify(upgrade)}, login ${loginRes?.status ?? 'refused'}, ticket ${ticketRes?.status ?? 'refused'}, open socket ${JSON.stringify(closed)}`,
      );

      assert.notEqual(upgrade.status, 101, `a socket was accepted during the drain: ${JSON.stringify(upgrade)}`);
      assert.deepEqual(closed.code, 1001);
      assert.match(closed.reason, /; retry-after-ms=\d+$/);
      assert.equal(code, 0);
      // Bun reports a closed socket gone at once, so its drain may end before these requests arrive:
      // then they are refused at the TCP level, which starts nothing either.
      const drainObserved = runtime !== 'bun' || (upgrade.status !== 0 && loginRes !== null && ticketRes !== null);
      if (!drainObserved) return;
      assert.equal(upgrade.status, 503);
      for (const res of [loginRes, ticketRes]) {
        assert.equal(res?.status, 503, res?.body);
        assert.deepEqual(res.json(), { error: 'draining' });
        assert.match(String(res.headers['retry-after']), /^[1-5]$/);
      }
      assert.match(upgrade.retryAfter ?? '', /^[1-5]$/);
      // Liveness still holds while the drain lasts; readiness does not.
      assert.deepEqual([health?.status, ready?.status], [200, 503]);
    });
  });
}
