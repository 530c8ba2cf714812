/**
 * Case 11, on a server of its own with the default login limits: the client IP is resolved from
 * the connection before any middleware, so a chunked request body (which makes Hono's bodyLimit
 * replace the request) cannot turn off the per-IP login limit or the ticket's IP binding.
 * Source addresses are 127.0.0.x: Linux routes all of 127/8 to the loopback interface.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { issuedSecrets } from '../support/flow.ts';
import { request } from '../support/http.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { TestSocket } from '../support/ws-client.ts';
import { CASE, DEMO_USERS, histogram, note, stillServes, targetOf, type Run } from './context.ts';

const SPRAYER = '127.0.0.150';
const BYSTANDER = '127.0.0.151';
const TICKET_HOLDER = '127.0.0.152';
const THIEF = '127.0.0.153';

/** POST with `Transfer-Encoding: chunked` (no Content-Length), from `from`. */
function chunkedPost(server: ServerProcess, path: string, from: string, body: string, headers: Record<string, string> = {}) {
  return request(`${server.origin}${path}`, {
    method: 'POST',
    localAddress: from,
    headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', origin: server.origin, ...headers },
    body,
  });
}

async function chunkedLogin(server: ServerProcess, from: string): Promise<string> {
  const res = await chunkedPost(server, '/auth/login', from, JSON.stringify({ username: 'demo', password: 'demo' }));
  assert.equal(res.status, 204, `login from ${from}: ${res.status} ${res.body}`);
  const cookie = String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  issuedSecrets.push(cookie.split('=')[1]!);
  return cookie;
}

async function chunkedTicket(server: ServerProcess, from: string, cookie: string): Promise<string> {
  const res = await chunkedPost(server, '/auth/ticket', from, '{}', { cookie });
  assert.equal(res.status, 201, `ticket from ${from}: ${res.status} ${res.body}`);
  const ticket = res.json<{ ticket: string }>().ticket;
  issuedSecrets.push(ticket);
  return ticket;
}

/** Opens a socket from `from` with the server's own Origin, sends the ticket, returns the first answer. */
async function authFrom(server: ServerProcess, from: string, ticket: string): Promise<string> {
  const socket = new TestSocket(server.wsUrl, { origin: server.origin, localAddress: from });
  try {
    await socket.opened;
    socket.send({ type: 'auth', ticket });
    const first = await Promise.race([socket.message(0, 5_000).then((m) => String(m.type)), socket.closed.then((c) => `close ${c.code}`)]);
    return first;
  } finally {
    socket.close();
    await socket.closeCode(3_000).catch(() => undefined);
  }
}

export function clientIpCases(run: Run): void {
  describe('11. the client IP with chunked request bodies', () => {
    let server: ServerProcess | undefined;
    before(async () => {
      // Default login and ticket limits (0.2/s burst 10 per IP): the thing under test.
      server = await startServer(run.runtime, { args: ['--demo-users', DEMO_USERS] });
    });
    after(async () => {
      await server?.stop();
    });

    it(
      '14 usernames sprayed from one IP with chunked bodies → 429 once the per-IP burst is spent; another IP is unaffected',
      CASE,
      async (t: TestContext) => {
        const statuses: number[] = [];
        for (let i = 0; i < 14; i++) {
          const res = await chunkedPost(server!, '/auth/login', SPRAYER, JSON.stringify({ username: `sprayed-${i}`, password: 'wrong' }));
          statuses.push(res.status);
        }
        const bystander = await chunkedPost(
          server!,
          '/auth/login',
          BYSTANDER,
          JSON.stringify({ username: 'sprayed-x', password: 'wrong' }),
        );
        const first429 = statuses.indexOf(429);
        note(
          t,
          run,
          'chunked login spray from one IP',
          `${statuses.join(' ')} (${histogram(statuses)}); another IP then: ${bystander.status}`,
        );
        assert.ok(first429 > 0, `the per-IP login limit must answer 429 within 14 attempts: ${statuses.join(' ')}`);
        assert.ok(
          statuses.slice(0, first429).every((s) => s === 401),
          `401 before the limit: ${statuses.join(' ')}`,
        );
        assert.ok(
          statuses.slice(first429).every((s) => s === 429),
          `429 from then on: ${statuses.join(' ')}`,
        );
        assert.equal(bystander.status, 401, 'another IP is not limited by the sprayer');
        await stillServes(t, run, server!, targetOf(server!));
      },
    );

    it(
      'a ticket fetched with a chunked body from one IP is refused (4401) from another, accepted from the same',
      CASE,
      async (t: TestContext) => {
        const cookie = await chunkedLogin(server!, TICKET_HOLDER);
        const stolen = await authFrom(server!, THIEF, await chunkedTicket(server!, TICKET_HOLDER, cookie));
        const own = await authFrom(server!, TICKET_HOLDER, await chunkedTicket(server!, TICKET_HOLDER, cookie));
        note(t, run, 'chunked ticket, other IP / same IP', `${stolen} / ${own}`);
        assert.equal(stolen, 'close 4401', 'a ticket is bound to the IP that fetched it');
        assert.equal(own, 'auth.ok', 'the IP that fetched it authenticates');
        await stillServes(t, run, server!, targetOf(server!));
      },
    );
  });
}
