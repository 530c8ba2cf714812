/* global URL, process */
/**
 * Scenario 4, idle connections (Node, not Bun: it needs `localAddress`, to spread the sockets
 * over source addresses 127.0.0.2–127.0.0.9 so the ephemeral ports of one address never run
 * out). Opens authenticated idle sockets up to each step of `steps`, prints
 * {"phase":"step","count"} and waits for a line on stdin before the next step. The sockets answer
 * pings (ws / engine.io do it themselves) and send nothing else. With `subscribe` (a channel name;
 * product only), after the last step every socket subscribes to it, and one more step line
 * (`subscribed: true`) follows.
 */
import http from 'node:http';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { io } from 'socket.io-client';
import { createHmac } from 'node:crypto';
import { TOKEN_KEY } from '../baselines/envelope.mjs';

const { server, steps, concurrency = 64, subscribe } = JSON.parse(process.argv[2]);
const url = new URL(server.origin);
const sources = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const agents = new Map(sources.map((s) => [s, new http.Agent({ keepAlive: true, maxSockets: 4, localAddress: s })]));
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function post(path, { body = '{}', headers = {}, localAddress }) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        agent: agents.get(localAddress),
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8').on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let cookie;
if (server.kind === 'product') {
  const res = await post('/auth/login', { body: JSON.stringify({ username: 'demo', password: 'demo' }), localAddress: sources[0] });
  if (res.status !== 204) throw new Error(`login ${res.status} ${res.body}`);
  cookie = res.headers['set-cookie'][0].split(';')[0];
}

const held = [];
let failures = 0;
/** Sockets that closed after they were established (a heartbeat reaped them, the server closed them). */
let dropped = 0;
async function openOne(i) {
  const localAddress = sources[i % sources.length];
  if (server.kind === 'socketio') {
    const sub = 'demo';
    const exp = Math.floor(Date.now() / 1000) + 86_400;
    const token = `${sub}.${exp}.${createHmac('sha256', TOKEN_KEY).update(`${sub}.${exp}`).digest('base64url')}`;
    return new Promise((resolve, reject) => {
      const socket = io(server.origin, { transports: ['websocket'], auth: { token }, forceNew: true, reconnection: false, localAddress });
      socket.once('connect', () => {
        socket.once('disconnect', () => dropped++);
        resolve(socket);
      });
      socket.once('connect_error', (e) => (socket.close(), reject(e)));
    });
  }
  let ticket;
  if (server.kind === 'product') {
    const res = await post('/auth/ticket', { headers: { cookie }, localAddress });
    if (res.status !== 201) throw new Error(`ticket ${res.status} ${res.body}`);
    ticket = JSON.parse(res.body).ticket;
  }
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.wsUrl, { localAddress, perMessageDeflate: false });
    let held = false;
    const hold = () => ((held = true), resolve(ws));
    ws.on('error', reject);
    ws.on('close', (code) => (held ? dropped++ : reject(new Error(`closed ${code}`))));
    ws.on('open', () => {
      if (ticket === undefined) return hold();
      ws.send(JSON.stringify({ type: 'auth', ticket }));
      ws.once('message', (data) => (String(data).includes('"auth.ok"') ? hold() : reject(new Error(String(data).slice(0, 200)))));
    });
  });
}

for (const target of steps) {
  while (held.length < target) {
    const n = Math.min(concurrency, target - held.length);
    const base = held.length;
    const results = await Promise.allSettled(Array.from({ length: n }, (_, k) => openOne(base + k)));
    for (const r of results) {
      if (r.status === 'fulfilled') held.push(r.value);
      else if (++failures > 100) throw new Error(`too many failures; last: ${r.reason?.message ?? r.reason}`);
    }
  }
  emit({ phase: 'step', count: held.length - dropped, opened: held.length, dropped, failures });
  const next = await lines.next();
  if (next.done) break;
}
if (subscribe !== undefined && server.kind === 'product') {
  for (let i = 0; i < held.length; i += concurrency) {
    await Promise.all(
      held.slice(i, i + concurrency).map(
        (ws, k) =>
          new Promise((resolve, reject) => {
            const id = `s${i + k}`;
            const onMessage = (data) => {
              const m = JSON.parse(String(data));
              if (m.id !== id) return;
              ws.off('message', onMessage);
              if (m.type === 'ok') resolve();
              else reject(new Error(`subscribe: ${String(data).slice(0, 200)}`));
            };
            ws.on('message', onMessage);
            ws.send(JSON.stringify({ type: 'subscribe', id, channel: subscribe }));
          }),
      ),
    );
  }
  emit({ phase: 'step', count: held.length - dropped, opened: held.length, dropped, failures, subscribed: true });
  await lines.next();
}
for (const socket of held) (socket.terminate ?? socket.disconnect).call(socket);
process.exit(0);
