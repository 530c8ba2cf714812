/** Bun platform: `Bun.serve` and its WebSocket upgrade; frame limit enforced natively too. */
import type { Context, Next } from 'hono';
import type { SocketRuntime } from '../core/socket-port.ts';
import type { ListenOptions, Platform } from '../server/platform.ts';
import { BunSocketPort, type BunSocketLike, type TopicPublisher } from './bun-socket-port.ts';
import { BunTopics } from './bun-topics.ts';
import { Heartbeat } from './heartbeat.ts';
import { TLS_CIPHERS } from './tls.ts';

const staticDir = new URL('../../static/', import.meta.url);

/** Reads one file of static/ beside the sources (`bun run`); the compiled binary swaps this out. */
async function readStaticFromDisk(name: string): Promise<Uint8Array | null> {
  try {
    const file = Bun.file(new URL(name, staticDir));
    return (await file.exists()) ? new Uint8Array(await file.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

/**
 * Dead-peer reaping: our Heartbeat pings (see heartbeat.ts: Bun's own `sendPings` go out in uWS's
 * 4 s timer steps, thousands of sockets in one native loop) and Bun's `websocket.idleTimeout`
 * (seconds, server-wide) stays as a backstop: it closes a socket that has received nothing for
 * that long (any frame, a pong too, resets it). Bun 1.4.5 (uWS) times in 4 s steps and never
 * under 8 s (measured: idleTimeout 1–8 → closed at 8 s; 12 → 12 s; 20 → 20 s; 30 → 32 s). It
 * sends no close frame: the peer sees 1006, the server's close handler gets 1006. Mapped to
 * interval + timeout (rounded as above); 960 is Bun's maximum.
 */
const websocketIdleTimeout = ({ intervalMs, timeoutMs }: ListenOptions['heartbeat']) =>
  Math.min(960, Math.max(1, Math.ceil((intervalMs + timeoutMs) / 1000)));

/**
 * HTTP `idleTimeout` (seconds; not the WebSocket one). Bun closes a connection whose request
 * headers are not complete after ~12 s whatever this is set to (measured 12.0 s for 5, 6, 8, 9 and the
 * default 10: uWS's fixed 10 s in 4 s steps), without a response; this option governs the rest of a
 * request, e.g. a body dripped byte by byte: 8 → closed at 8 s (9 or 10 → 12 s).
 */
const HTTP_IDLE_TIMEOUT_S = 8;

/** `Upgrade: websocket` without `Connection: Upgrade` is no upgrade: Bun would still answer 101. */
const isHalfUpgrade = (request: Request) =>
  request.headers.get('upgrade') !== null && !/(^|,)\s*upgrade\s*(,|$)/i.test(request.headers.get('connection') ?? '');

/**
 * The app's `env`: the upgrade finds the server under `server`; `peer` is the connection's address,
 * taken from the request Bun handed to fetch. `server.requestIP()` answers null for any other
 * Request object, and middleware replaces `c.req.raw` (Hono's bodyLimit does, for chunked bodies;
 * so does the half-upgrade fix above): asked later, the IP would be lost.
 */
interface BunEnv {
  readonly server: Bun.Server;
  readonly peer: string | null;
}

/**
 * A socket's whole JS state on Bun is its port (`ws.data`): the session until it opens, then the
 * gateway's receiver, and the heartbeat's links. Made by our upgrade below, read by Bun's callbacks
 * in `listen` (shared by every socket).
 */
interface BunSocket extends BunSocketLike {
  readonly data: BunSocketPort;
  ping(): unknown;
}

/**
 * The upgrade as hono/bun's helper does it (`server.upgrade` of the request, the route's next
 * handler when it is no WebSocket upgrade), without what that helper keeps per socket in
 * `ws.data` (an events object and its closures, the URL, the protocol) or builds per event (an
 * Event and a WSContext): Bun's callbacks hand the socket straight to the session and the receiver.
 */
const bunSocketRuntime: SocketRuntime = {
  upgrade: (accept) => async (c: Context, next: Next) => {
    const data = new BunSocketPort();
    data.session = accept(c);
    if ((c.env as BunEnv).server.upgrade(c.req.raw, { data })) return new Response(null);
    await next();
  },
  topics: new BunTopics(),
};

export const platform: Platform = {
  name: 'bun',
  version: Bun.version,
  socketRuntime: bunSocketRuntime,
  clientIp: (c: Context) => (c.env as BunEnv).peer,
  readStatic: readStaticFromDisk,
  readTextFile: (path) => Bun.file(path).text(),
  // Native (BoringSSL), one shot: ~0.2 µs for a session token, against ~2 µs for @noble/hashes on JSC.
  sha256: (data) => Bun.SHA256.hash(data),
  listen: async (app, options) => {
    const heartbeat = new Heartbeat<BunSocketPort>(options.heartbeat);
    // The server is set once it exists; no socket can open before that.
    const listener: { server?: Bun.Server } = {};
    const publisher: TopicPublisher = {
      publish: (topic, data) => listener.server!.publish(topic, data),
      backpressureLimit: options.maxBufferedBytes,
    };
    const server = Bun.serve({
      fetch: (request, bunServer) => {
        const env: BunEnv = { server: bunServer, peer: bunServer.requestIP(request)?.address ?? null };
        if (isHalfUpgrade(request)) {
          const headers = new Headers(request.headers);
          headers.delete('upgrade');
          return app.fetch(new Request(request, { headers }), env);
        }
        return app.fetch(request, env);
      },
      port: options.port,
      hostname: options.host,
      idleTimeout: HTTP_IDLE_TIMEOUT_S,
      // Server-wide: an oversize frame is refused by Bun itself with 1009 before the gateway sees it.
      // The session's open and the receiver's frames and close, with the heartbeat around them.
      websocket: {
        open(ws: BunSocket) {
          const port = ws.data;
          port.attach(ws, publisher);
          heartbeat.add(port);
          const session = port.session!;
          port.session = undefined; // let go: the receiver is all an open socket needs
          port.receiver = session.opened(port);
        },
        message(ws: BunSocket, message: string | Uint8Array) {
          const receiver = ws.data.receiver;
          if (receiver === undefined) return; // not open yet: nothing listens
          receiver.receive(
            typeof message === 'string'
              ? { kind: 'text', data: message, bytes: Buffer.byteLength(message) }
              : { kind: 'binary', bytes: message.byteLength },
          );
        },
        // Bun answers every ping itself. A client that floods pings and reads none of the pongs
        // would pile them up in our send buffer without end (+33 MB RSS in 20 s measured, never
        // dropped): past --max-buffered it is a slow consumer and is dropped at once, as `ws`
        // drops one with more than 60 pongs unwritten on Node. No close frame: it would wait
        // behind the pongs the client does not read.
        ping(ws: BunSocket) {
          if (ws.getBufferedAmount() > options.maxBufferedBytes) ws.terminate();
        },
        pong(ws: BunSocket) {
          heartbeat.answered(ws.data);
        },
        close(ws: BunSocket, code: number) {
          heartbeat.remove(ws.data);
          const { receiver, session } = ws.data;
          if (receiver !== undefined) receiver.peerClosed(code);
          else session?.abandoned(); // never opened
        },
        maxPayloadLength: options.maxPayloadBytes,
        idleTimeout: websocketIdleTimeout(options.heartbeat),
        sendPings: false,
        // Past --max-buffered Bun drops what is sent to a socket (send() says so; publish() returns
        // 0): the gateway closes it as a slow consumer then (bun-topics.ts). Without this, Bun's
        // default 16 MiB.
        backpressureLimit: options.maxBufferedBytes,
      },
      ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key, ciphers: TLS_CIPHERS } } : {}),
    });
    listener.server = server;
    return {
      port: server.port,
      // The gateway has already closed its sockets with its own reason; stop(true) would send a
      // bare 1001 to any straggler (and drops in-flight requests) instead of waiting for them.
      close: async () => {
        heartbeat.stop();
        await server.stop(true);
      },
    };
  },
  auditHost: async () => (await import('./audit-host.ts')).auditHost,
  onShutdownSignal: (handler) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => handler(signal));
  },
  argv: Bun.argv.slice(2),
  env: process.env,
  writeStdout: (text) => {
    process.stdout.write(text);
  },
  writeStderr: (text) => {
    process.stderr.write(text);
  },
  exit: (code) => process.exit(code),
};
