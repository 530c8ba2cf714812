/**
 * Deno platform: `Deno.serve` with a WebSocket helper modelled on `hono/deno`'s (below). Deno has no frame-size option
 * (only a hard 64 MiB), so the gateway's own size check is the limit here (close 1009).
 *
 * Slowloris: `Deno.serve` (2.9.6) has no header, request or idle timeout and no option for one
 * (denoland/deno#3515): a connection that never finishes its headers stays open (measured: still
 * open after 40 s). Behind a reverse proxy, set the proxy's header timeout (nginx
 * `client_header_timeout 10s`, haproxy `timeout http-request 10s`).
 */
import type { Hono } from 'hono';
import { getConnInfo } from 'hono/deno';
import { defineWebSocketHelper, WSContext, type WSReadyState } from 'hono/ws';
import type { Listening, ListenOptions, Platform } from '../server/platform.ts';

const staticDir = new URL('../../static/', import.meta.url);

const asksForUpgrade = (request: Request) =>
  request.headers.get('upgrade') !== null && /(^|,)\s*upgrade\s*(,|$)/i.test(request.headers.get('connection') ?? '');

/** Thrown into a response body to make Deno drop the connection; filtered out of `onError`. */
class CloseConnection extends Error {}

/**
 * Deno keeps the connection of a refused upgrade request (`Connection: Upgrade` answered with
 * anything but 101, e.g. `Upgrade: h2c` → 400, a bad Origin → 403) open even when the response
 * says `Connection: close` (measured: still open after 40 s, 2.9.6). Erroring the response body
 * after its last byte is the one way a handler has to make Deno close it: the client gets the
 * status, headers and body (chunked, without the final chunk) and then the close.
 */
function closeAfter(response: Response): Response {
  const source = response.body?.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = source ? await source.read() : { done: true as const, value: undefined };
      if (chunk.done) controller.error(new CloseConnection());
      else controller.enqueue(chunk.value);
    },
    cancel: (reason) => source?.cancel(reason),
  });
  const headers = new Headers(response.headers);
  headers.set('connection', 'close');
  headers.delete('content-length');
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Dead-peer reaping: `Deno.upgradeWebSocket(req, { idleTimeout })` pings a socket that has been
 * silent for idleTimeout/2 s and, if nothing arrives within another idleTimeout/2 s, sends a close
 * frame 1001 "No response from ping frame." and drops the TCP connection at once (it does not wait
 * for the peer's close). A live-but-mute client sees 1001; the server's onClose fires 1001 then
 * 1005. Any received frame counts as alive. Fractional seconds work (0.5 → ping after 250 ms).
 * Mapped so a silent peer goes after interval + timeout: idleTimeout = (intervalMs + timeoutMs)/1000.
 */
const idleTimeoutSeconds = ({ intervalMs, timeoutMs }: ListenOptions['heartbeat']) => (intervalMs + timeoutMs) / 1000;

/** Set by listen() before the first request; read by every upgrade. */
const serverSocketOptions: { idleTimeout?: number } = {};

/**
 * `hono/deno`'s helper, with two changes. (1) The heartbeat arrives in `listen()`, after the
 * gateway made its middleware: the idle timeout is read per upgrade from `serverSocketOptions`
 * (options the caller passes win). (2) The Upgrade header is compared case-insensitively, as
 * RFC 6455, Node, Bun and `Deno.upgradeWebSocket` do (hono/deno wants exactly `websocket`, so
 * `Upgrade: WebSocket` got a 404). The request must be upgraded as it came from `Deno.serve`: a
 * copy (`new Request(req, { headers })`) gets a 101, but Deno never starts the socket (no open,
 * no ping, no message: an orphaned connection, seen on 2.9.6).
 */
const upgradeWebSocket = defineWebSocketHelper<WebSocket, Deno.UpgradeWebSocketOptions>((c, events, options) => {
  if (c.req.header('upgrade')?.trim().toLowerCase() !== 'websocket') return;
  const protocol = c.req.header('sec-websocket-protocol')?.split(',')[0]?.trim();
  const { response, socket } = Deno.upgradeWebSocket(c.req.raw, {
    ...(protocol ? { protocol } : {}),
    ...serverSocketOptions,
    ...options,
  });
  const context = new WSContext<WebSocket>({
    close: (code, reason) => socket.close(code, reason),
    get protocol() {
      return socket.protocol;
    },
    raw: socket,
    get readyState() {
      return socket.readyState as WSReadyState;
    },
    url: socket.url ? new URL(socket.url) : null,
    send: (source) => socket.send(source),
  });
  socket.onopen = (event) => events.onOpen?.(event, context);
  socket.onmessage = (event) => events.onMessage?.(event, context);
  socket.onclose = (event) => events.onClose?.(event, context);
  socket.onerror = (event) => events.onError?.(event, context);
  return response;
});

/**
 * Without `Connection: Upgrade` an `Upgrade: websocket` header is no upgrade (hono/deno would try
 * and answer 500); without the header the route answers 426. Only GET/HEAD matter (the WebSocket
 * route is a GET) and are rebuilt from the URL: copying the request would read its `signal`, which
 * makes Deno print a legacy-abort warning.
 */
function withoutUpgradeHeader(request: Request): Request {
  if (request.headers.get('upgrade') === null || (request.method !== 'GET' && request.method !== 'HEAD')) return request;
  const headers = new Headers(request.headers);
  headers.delete('upgrade');
  return new Request(request.url, { method: request.method, headers });
}

async function serveRequest(app: Hono, request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
  if (!asksForUpgrade(request)) return app.fetch(withoutUpgradeHeader(request), info);
  // Non-websocket upgrades (h2c, ...) are refused here too, in case the app does not.
  const response =
    request.headers.get('upgrade')!.trim().toLowerCase() === 'websocket'
      ? await app.fetch(request, info)
      : new Response('Bad Request', { status: 400, headers: { 'content-type': 'text/plain' } });
  return response.status === 101 ? response : closeAfter(response);
}

export const platform: Platform = {
  name: 'deno',
  version: Deno.version.deno,
  upgradeWebSocket,
  clientIp: (c) => getConnInfo(c).remote.address ?? null,
  readStatic: async (name) => {
    try {
      return await Deno.readFile(new URL(name, staticDir));
    } catch {
      return null;
    }
  },
  readTextFile: (path) => Deno.readTextFile(path),
  listen: (app: Hono, options) =>
    new Promise<Listening>((resolve, reject) => {
      serverSocketOptions.idleTimeout = idleTimeoutSeconds(options.heartbeat);
      try {
        const server = Deno.serve(
          {
            port: options.port,
            hostname: options.host,
            ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
            onListen: (addr) =>
              resolve({
                port: (addr as Deno.NetAddr).port,
                close: () => server.shutdown(),
              }),
            onError: (error) => {
              // Deno's default: log and answer 500. CloseConnection is ours (closeAfter), not an error.
              if (!(error instanceof CloseConnection)) console.error(error);
              return new Response('Internal Server Error', { status: 500 });
            },
          },
          (request, info) => serveRequest(app, request, info as Deno.ServeHandlerInfo<Deno.NetAddr>),
        );
      } catch (error) {
        reject(error);
      }
    }),
  onShutdownSignal: (handler) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) Deno.addSignalListener(signal, () => handler(signal));
  },
  argv: Deno.args,
  env: Deno.env.toObject(),
  writeStdout: (text) => {
    Deno.stdout.writeSync(new TextEncoder().encode(text));
  },
  writeStderr: (text) => {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  },
  exit: (code) => Deno.exit(code),
};
