/** The ticket flow from a client's point of view: login, ticket, connect, authenticate. */
import assert from 'node:assert/strict';
import { request } from './http.ts';
import { TestSocket } from './ws-client.ts';

export interface Target {
  /** e.g. http://127.0.0.1:8080 */
  readonly origin: string;
  readonly wsUrl: string;
  readonly ca?: string;
}

/** Every ticket and session cookie handed out in this test process: none may appear in a server log. */
export const issuedSecrets: string[] = [];

export async function login(target: Target, username = 'demo', password = 'demo'): Promise<string> {
  const res = await request(`${target.origin}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
    ca: target.ca,
  });
  assert.equal(res.status, 204, `login: ${res.body}`);
  const cookie = String(res.headers['set-cookie']?.[0] ?? '').split(';')[0];
  assert.ok(cookie, 'login sets a session cookie');
  issuedSecrets.push(cookie!.split('=')[1]!);
  return cookie!;
}

/** A fresh ticket; `origin` is the Origin header of the ticket request (the ticket is bound to it). */
export async function ticket(target: Target, cookie: string, origin?: string): Promise<string> {
  const headers: Record<string, string> = { cookie, 'content-type': 'application/json' };
  if (origin !== undefined) headers.origin = origin;
  const res = await request(`${target.origin}/auth/ticket`, { method: 'POST', headers, body: '{}', ca: target.ca });
  assert.equal(res.status, 201, `ticket: ${res.body}`);
  const issued = res.json<{ ticket: string }>().ticket;
  issuedSecrets.push(issued);
  return issued;
}

export function connect(target: Target, origin?: string): TestSocket {
  return new TestSocket(target.wsUrl, { origin, ca: target.ca });
}

/** Logs in, gets a ticket and returns an authenticated socket (auth.ok already received). */
export async function authenticated(target: Target, cookie?: string): Promise<TestSocket> {
  const session = cookie ?? (await login(target));
  const t = await ticket(target, session);
  const socket = connect(target);
  await socket.opened;
  socket.send({ type: 'auth', ticket: t });
  const first = await socket.message(0);
  assert.equal(first.type, 'auth.ok');
  return socket;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
