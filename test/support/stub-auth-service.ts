/**
 * A stand-in third-party auth service for the HTTP verifier, reached over real HTTP. The ticket's
 * prefix chooses the answer: ok…, short… (ok, session ends in 2 s), reject…, fail… (500), hang… (never answers).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const STUB_SECRET = 'stub-verify-secret-0123456789abcdef-0123456789';

export interface StubAuthService {
  readonly url: string;
  /** Verify requests received: the body and whether the bearer secret was right. */
  readonly calls: { body: Record<string, unknown>; authorized: boolean }[];
  stop(): Promise<void>;
}

export async function startStubAuthService(port = 0): Promise<StubAuthService> {
  const calls: StubAuthService['calls'] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const authorized = req.headers.authorization === `Bearer ${STUB_SECRET}`;
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      calls.push({ body, authorized });
      const reply = (status: number, payload: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      if (!authorized) return reply(401, { error: 'unauthorized' });
      const ticket = String(body.ticket);
      if (ticket.startsWith('short')) return reply(200, { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 2 });
      if (ticket.startsWith('ok')) return reply(200, { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600, role: 'tester' });
      if (ticket.startsWith('reject')) return reply(401, { error: 'unknown_ticket' });
      if (ticket.startsWith('fail')) return reply(500, { error: 'boom' });
      // hang…: never answer
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}/auth/verify`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const stubTicket = (kind: 'ok' | 'short' | 'reject' | 'fail' | 'hang') =>
  `${kind}${'x'.repeat(30)}${Math.random().toString(36).slice(2)}`;
