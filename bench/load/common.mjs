/* global URL, WebSocket, fetch, process, setTimeout */
/**
 * Client side of every protocol the harness speaks, for the Bun load generators: the product's
 * ticket flow (login once, then per connection POST /auth/ticket, open /ws, send the auth frame,
 * wait for auth.ok), a plain WebSocket (baselines), and socket.io with a signed token.
 * Each returns a small uniform socket: send(text), onMessage(fn), close().
 */
import { createHmac } from 'node:crypto';
import { io } from 'socket.io-client';
import { TOKEN_KEY } from '../baselines/envelope.mjs';
import { rawConnect } from './raw.mjs';

/** Parameters arrive as one JSON argument; results leave as JSON lines on stdout. */
export const params = JSON.parse(process.argv[2] ?? '{}');
export const emit = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Logs in as the demo user; returns the session cookie. */
export async function login(origin) {
  const res = await fetch(`${origin}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo' }),
  });
  if (res.status !== 204) throw new Error(`login: ${res.status} ${await res.text()}`);
  return res.headers.get('set-cookie').split(';')[0];
}

export async function ticket(origin, cookie) {
  const res = await fetch(`${origin}/auth/ticket`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
  if (res.status !== 201) throw new Error(`ticket: ${res.status} ${await res.text()}`);
  return (await res.json()).ticket;
}

/** An HMAC-signed `sub.exp.sig` token, what the socket.io baseline's middleware checks. */
export function signToken(sub = 'demo', ttlSeconds = 3600) {
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
  const sig = createHmac('sha256', TOKEN_KEY).update(`${sub}.${exp}`).digest('base64url');
  return `${sub}.${exp}.${sig}`;
}

function wrapWebSocket(ws) {
  let handler = () => {};
  ws.onmessage = (event) => handler(event.data);
  const closed = new Promise((resolve) => (ws.onclose = resolve));
  return { send: (text) => ws.send(text), onMessage: (fn) => (handler = fn), close: () => ws.close(), closed };
}

/** Opens a WebSocket; resolves once open. */
function openWebSocket(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`websocket error ${url}`));
    ws.onclose = (event) => reject(new Error(`closed before open: ${event.code}`));
  });
}

/**
 * The product's whole connect: ticket, upgrade, auth frame, verification, auth.ok.
 * Resolves with an authenticated socket.
 */
export async function connectProduct(server, cookie) {
  const t = await ticket(server.origin, cookie);
  const ws = await openWebSocket(server.wsUrl);
  const authOk = new Promise((resolve, reject) => {
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'auth.ok') resolve();
      else reject(new Error(`expected auth.ok, got ${event.data}`));
    };
    ws.onclose = (event) => reject(new Error(`closed during auth: ${event.code} ${event.reason}`));
  });
  ws.send(JSON.stringify({ type: 'auth', ticket: t }));
  await authOk;
  return wrapWebSocket(ws);
}

export async function connectPlain(server) {
  return wrapWebSocket(await openWebSocket(server.wsUrl));
}

/** socket.io over its WebSocket transport only (no long-polling first), token in the handshake. */
export function connectSocketIo(server, token = signToken()) {
  return new Promise((resolve, reject) => {
    const socket = io(server.origin, { transports: ['websocket'], auth: { token }, forceNew: true, reconnection: false });
    socket.once('connect', () => {
      let handler = () => {};
      socket.on('message', (text) => handler(text));
      const closed = new Promise((done) => socket.once('disconnect', done));
      resolve({ send: (text) => socket.send(text), onMessage: (fn) => (handler = fn), close: () => socket.disconnect(), closed });
    });
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** A connector for the server's kind; the product logs in once per load process. */
export async function connector(server) {
  if (server.kind === 'product') {
    const cookie = await login(server.origin);
    return () => connectProduct(server, cookie);
  }
  if (server.kind === 'socketio') return () => connectSocketIo(server);
  return () => connectPlain(server);
}

/** `{"type":"echo","id":…,"data":"<64 bytes>"}` */
export const PAYLOAD_64 = 'x'.repeat(64);
export const echoFrame = (id) => JSON.stringify({ type: 'echo', id, data: PAYLOAD_64 });

/**
 * Raw (cheap) connection of the server's kind, ready for messages: the product's whole ticket
 * flow, a plain upgrade, or socket.io's handshake with a signed token.
 */
export async function rawConnector(server) {
  const url = new URL(server.origin);
  const base = { host: url.hostname, port: Number(url.port), kind: server.kind };
  if (server.kind === 'product') {
    const cookie = await login(server.origin);
    return async () => rawConnect({ ...base, path: '/ws', ticket: await ticket(server.origin, cookie) });
  }
  if (server.kind === 'socketio') return () => rawConnect({ ...base, path: '/socket.io/?EIO=4&transport=websocket', token: signToken() });
  return () => rawConnect({ ...base, path: '/' });
}

/**
 * The product's connect with tickets issued beforehand (gateway connect): logs in, issues `count`
 * tickets (16 requests in flight), then each call takes one. `left()` says how many remain.
 */
export async function preissuedConnector(server, count) {
  const url = new URL(server.origin);
  const base = { host: url.hostname, port: Number(url.port), kind: server.kind, path: '/ws' };
  const cookie = await login(server.origin);
  const tickets = [];
  const issue = async () => {
    while (tickets.length < count) tickets.push(await ticket(server.origin, cookie));
  };
  await Promise.all(Array.from({ length: 16 }, issue));
  return { connect: () => rawConnect({ ...base, ticket: tickets.pop() }), left: () => tickets.length };
}
