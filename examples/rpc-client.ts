// A client of the hardened-ws server itself (`npx hardened-ws --hook-rpc-url …`, see backend.ts):
// `npx tsx rpc-client.ts` (SERVER_URL, default http://127.0.0.1:8080). It signs in to the embedded
// demo auth service with HTTP Basic auth, listens on its own channel user:{sub}, and asks the
// backend over rpc — once to echo, once to publish a notification back to it through the server API.
import WebSocket from 'ws'; // Node 20 has no global WebSocket; Node 22+, Bun, Deno and browsers do
import { connect, fetchTicket } from 'hardened-ws/client';

const server = process.env.SERVER_URL ?? 'http://127.0.0.1:8080';
const client = connect({
  url: `${server.replace(/^http/, 'ws')}/ws`,
  WebSocket,
  getTicket: () => fetchTicket(`${server}/auth/ticket`, { headers: { authorization: `Basic ${btoa('demo:demo')}` } }),
});

let notified: (data: unknown) => void = () => {};
const notification = new Promise((resolve) => (notified = resolve));
await client.subscribe('user:demo', (data, { from }) => {
  if (from === '$api') notified(data); // published by the backend through the server API
});

console.log('rpc echo', await client.request({ type: 'rpc', method: 'echo', data: { hello: 'backend' } }));
console.log('rpc notify_me', await client.request({ type: 'rpc', method: 'notify_me', data: { text: 'hi' } }));
console.log('notification', await notification);
client.close();
