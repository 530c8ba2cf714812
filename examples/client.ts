// The client SDK against either server: `npx tsx client.ts` (SERVER_URL, default http://127.0.0.1:3000).
import WebSocket from 'ws'; // Node 20 has no global WebSocket; Node 22+, Bun, Deno and browsers do
import { connect, fetchTicket } from 'hardened-ws/client';

const server = process.env.SERVER_URL ?? 'http://127.0.0.1:3000';

const client = connect({
  url: `${server.replace(/^http/, 'ws')}/ws`,
  WebSocket,
  // A fresh ticket for every connection attempt, fetched with the app's own login. A 401 or 403
  // from the endpoint stops the client (logged out, refused); other failures are retried.
  getTicket: () => fetchTicket(`${server}/tickets`, { headers: { authorization: 'Bearer session-token-alice' } }),
});

console.log('echo', await client.request({ type: 'echo', data: 'hi' }));
console.log('whoami', await client.request({ type: 'whoami' }));

let received: (message: unknown) => void = () => {};
const delivered = new Promise((resolve) => (received = resolve));
await client.subscribe('chat:lobby', (data, { from }) => received({ from, data }));
await client.publish('chat:lobby', { text: 'hello' });
console.log('message', await delivered);
client.close();
