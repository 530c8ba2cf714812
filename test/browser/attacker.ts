/**
 * The attacker for the cross-site hijacking test: a page on ANOTHER origin (its own local port)
 * that tries to use the victim's login. Its script asks the victim server for a ticket with the
 * victim's cookies and opens the victim's WebSocket, then shows what it got.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Attacker {
  readonly origin: string;
  stop(): Promise<void>;
}

const page = (victim: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Totally harmless page</title>
<style>body{font:16px system-ui,sans-serif;margin:2rem;max-width:40rem}pre{background:#fee;padding:1rem;border-radius:8px;white-space:pre-wrap}</style>
</head><body>
<h1>Totally harmless page</h1>
<p>Served from another origin. Its script tries to hijack the victim's socket at <code>${victim}</code>:</p>
<p id="verdict"><strong>running…</strong></p>
<pre id="out">running…</pre>
<script>
const victim = ${JSON.stringify(victim)};
const result = window.result = { ticketStatus: null, ticket: null, fetchError: null, wsOpened: false, wsError: false, wsClose: null, done: false };
const out = document.getElementById('out');
const show = () => {
  out.textContent = JSON.stringify(result, null, 2);
  if (result.done) document.getElementById('verdict').firstChild.textContent = result.wsOpened || result.ticket ? 'Hijack worked.' : 'Hijack refused: no ticket, and the socket never opened.';
};
(async () => {
  // A "simple" POST (no body, no custom header): no preflight, and the browser attaches the
  // victim's cookies (127.0.0.1 on another port is the same site), but without CORS the answer
  // cannot be read.
  try {
    const res = await fetch(victim + '/auth/ticket', { method: 'POST', credentials: 'include' });
    result.ticketStatus = res.status;
    result.ticket = (await res.json()).ticket ?? null;
  } catch (error) {
    result.fetchError = String(error);
  }
  const ws = new WebSocket(victim.replace(/^http/, 'ws') + '/ws');
  ws.onopen = () => { result.wsOpened = true; ws.send(JSON.stringify({ type: 'auth', ticket: result.ticket ?? 'stolen-ticket-placeholder-000000' })); };
  ws.onerror = () => { result.wsError = true; };
  ws.onmessage = (event) => { result.wsMessage = String(event.data); };
  ws.onclose = (event) => { result.wsClose = event.code; result.done = true; show(); };
  show();
})();
</script>
</body></html>`;

export async function startAttacker(victimOrigin: string): Promise<Attacker> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(victimOrigin));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
