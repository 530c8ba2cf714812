/**
 * fetchTicket against a real HTTP endpoint (how it asks, what it returns, the typed error), and the
 * client stopping on a refusal (403 origin_not_allowed) instead of spending a ticket per retry.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fetchTicket, TicketError } from '../../src/client/index.ts';
import { FakeSocket, settle } from './fakes.ts';
import { harness, leakCheckMaterial, rejection } from './harness.ts';
import { assertNoLeaks } from './leaks.ts';

interface Seen {
  method: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

describe('fetchTicket', () => {
  let server: http.Server;
  let base: string;
  const seen: Seen[] = [];
  /** The next answer: status, JSON body (or raw text) and headers. */
  let answer: { status: number; body: unknown; headers?: Record<string, string> } = { status: 201, body: {} };

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
        const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res
          .writeHead(answer.status, {
            'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json',
            ...answer.headers,
          })
          .end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POSTs {} as application/json and resolves with ticket, sessionExp and expiresIn', async () => {
    answer = { status: 201, body: { ticket: 'tkt-SECRET-from-endpoint-xxxxxxxx', expiresIn: 30, sessionExp: 1_700_000_040 } };
    const grant = await fetchTicket(`${base}/auth/ticket`, { headers: { authorization: 'Basic ZGVtbzpkZW1v' } });
    assert.deepEqual(grant, { ticket: 'tkt-SECRET-from-endpoint-xxxxxxxx', sessionExp: 1_700_000_040, expiresIn: 30 });
    assert.deepEqual(seen.at(-1), { method: 'POST', contentType: 'application/json', authorization: 'Basic ZGVtbzpkZW1v', body: '{}' });
  });

  it('a refusal is a TicketError with the status and the endpoint’s error code', async () => {
    answer = { status: 403, body: { error: 'origin_not_allowed' } };
    const refused = await rejection(fetchTicket(`${base}/auth/ticket`));
    assert.ok(refused instanceof TicketError);
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'origin_not_allowed');
    assert.equal(refused.message, 'ticket request refused: HTTP 403 origin_not_allowed');
  });

  it('Retry-After becomes retryAfterMs; free text in a body never becomes the code', async () => {
    answer = { status: 429, body: { error: 'too_many_tickets' }, headers: { 'retry-after': '3' } };
    const limited = (await rejection(fetchTicket(`${base}/auth/ticket`))) as TicketError;
    assert.equal(limited.code, 'too_many_tickets');
    assert.equal(limited.retryAfterMs, 3_000);
    answer = { status: 500, body: { error: 'Something <b>odd</b> happened with ticket abc' } };
    assert.equal(((await rejection(fetchTicket(`${base}/auth/ticket`))) as TicketError).code, null);
    answer = { status: 502, body: 'Bad Gateway' };
    assert.equal(((await rejection(fetchTicket(`${base}/auth/ticket`))) as TicketError).status, 502);
  });

  it('a 2xx without a ticket is a TypeError (retried by the client with backoff)', async () => {
    answer = { status: 201, body: { nope: true } };
    assert.ok((await rejection(fetchTicket(`${base}/auth/ticket`))) instanceof TypeError);
  });
});

describe('client on a refused ticket request', () => {
  it('403 origin_not_allowed: stops after one request, reports ticket_refused with the server’s code', async () => {
    const h = harness();
    h.tickets.failWith(new TicketError(403, 'origin_not_allowed'));
    await settle();
    assert.equal(h.client.state, 'closed');
    assert.equal(h.client.closedBecause?.code, 'ticket_refused');
    assert.equal(h.client.closedBecause?.serverCode, 'origin_not_allowed');
    assert.deepEqual(
      h.errors.map((e) => (e as { code?: string }).code),
      ['ticket_refused'],
    );
    await h.clock.advance(600_000);
    assert.equal(FakeSocket.instances.length, 0);
    assert.equal(h.tickets.issued.length, 0, 'no further ticket request');
  });

  it('any error with status 403 counts (an app’s own getTicket), a 401 TicketError is logged_out', async () => {
    const h = harness();
    h.tickets.failWith(Object.assign(new Error('forbidden'), { status: 403 }));
    await settle();
    assert.equal(h.client.closedBecause?.code, 'ticket_refused');
    assert.equal(h.client.closedBecause?.serverCode, undefined);
    const h2 = harness();
    h2.tickets.failWith(new TicketError(401, 'unauthorized'));
    await settle();
    assert.equal(h2.client.closedBecause?.code, 'logged_out');
  });

  it('a 429 TicketError is retried after its Retry-After', async () => {
    const h = harness();
    h.tickets.failWith(new TicketError(429, 'too_many_tickets', 2_000));
    await settle();
    assert.equal(h.client.state, 'reconnecting');
    await h.clock.advance(1_999);
    assert.equal(FakeSocket.instances.length, 0);
    await h.clock.advance(1);
    assert.equal(FakeSocket.instances.length, 1);
    h.client.close();
  });

  it('leaks no ticket into any error or log line', () => assertNoLeaks(leakCheckMaterial()));
});
