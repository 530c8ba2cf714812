/**
 * The HTTP + WebSocket listener of Node and Deno: @hono/node-server over node:http(s), WebSockets
 * by `ws`. Deno runs it through its node:http compatibility because its own `Deno.serve` +
 * `Deno.upgradeWebSocket` can bound neither a message's size nor a request's headers
 * (docs/security.md, "Where the runtimes differ").
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Context, Hono } from 'hono';
import { defineWebSocketHelper, type WSEvents } from 'hono/ws';
import { serve, upgradeWebSocket, type WebSocketLike } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { SocketRuntime, SocketSession } from '../core/socket-port.ts';
import { ResettingWebSocket, WsSocketPort } from './ws-socket-port.ts';
import { WsTopics } from './ws-topics.ts';
import type { Frame } from '../protocol/messages.ts';
import type { Listening, ListenOptions } from '../server/platform.ts';
import { Heartbeat, type HeartbeatOptions } from './heartbeat.ts';
import { TLS_CIPHERS } from './tls.ts';

/**
 * Slowloris limits. Node enforces headersTimeout/requestTimeout only when its connection sweep
 * runs (`connectionsCheckingInterval`, default 30 s), so the sweep is shortened too: a request
 * whose headers are not complete within 10 s is answered 408 and closed within ~11 s.
 * requestTimeout covers the whole request (our bodies are small JSON); an upgraded WebSocket is
 * no longer an HTTP request and is not affected. TLS handshakes get the same 10 s (default 120 s).
 */
const HTTP_TIMEOUTS = {
  headersTimeout: 10_000,
  requestTimeout: 10_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
} as const;
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Every upgraded socket of `wss` on the heartbeat; shared listeners (`this` is the socket), no
 * closure per socket. The one close listener also tells the socket's receiver (one listener, not
 * two: ws keeps an array per event with more than one).
 */
function startHeartbeat(wss: WebSocketServer, options: HeartbeatOptions): () => void {
  const heartbeat = new Heartbeat<WebSocket>(options);
  function onPong(this: WebSocket) {
    heartbeat.answered(this);
  }
  function onClose(this: WebSocket, code: number) {
    heartbeat.remove(this);
    (this as ResettingWebSocket).receiver?.peerClosed(code);
  }
  // node-server emits 'connection' on our wss for every upgraded socket (after handleUpgrade).
  wss.on('connection', (ws: WebSocket) => {
    heartbeat.add(ws);
    ws.on('pong', onPong);
    ws.on('close', onClose);
  });
  return () => heartbeat.stop();
}

/**
 * node-server 2.1.9 ignores an `Upgrade:` other than websocket (e.g. `h2c`) and leaves the socket
 * hanging (GHSA-8wcc-wqxr-28qp). Its own listener is replaced by one that answers those with 400
 * and delegates websocket upgrades to it. Replaced rather than joined: node-server only writes its
 * refusal (403/429/...) when it is the server's single 'upgrade' listener.
 */
function guardUpgrades(server: Server): void {
  const delegates = server.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = refuseUpgrade(request);
    if (refusal === null) {
      for (const delegate of delegates) delegate(request, socket, head);
      return;
    }
    socket.on('error', () => {});
    socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    // If the peer never reads, do not wait for the flush forever.
    setTimeout(() => socket.destroy(), 1_000).unref();
  });
}

/** Node silently keeps only the first 2,000 raw header entries; a real browser sends a few dozen. */
const MAX_UPGRADE_HEADERS = 100;

function refuseUpgrade(request: IncomingMessage): string | null {
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return '400 Bad Request';
  if (request.httpVersion !== '1.1') return '400 Bad Request'; // RFC 6455 §4.1: HTTP/1.1 or higher
  if (request.rawHeaders.length / 2 > MAX_UPGRADE_HEADERS) return '431 Request Header Fields Too Large';
  return null;
}

/**
 * `Upgrade: websocket` without `Connection: Upgrade` reaches the ordinary request path, where
 * node-server's upgradeWebSocket answers 500; without the header the route answers 426 instead.
 * (Real upgrades come through the 'upgrade' event with `outgoing` undefined.)
 */
function withoutHalfUpgrade(app: Hono): Hono['fetch'] {
  return (request, env, ctx) => {
    if (request.headers.get('upgrade') === null || (env as { outgoing?: unknown } | undefined)?.outgoing === undefined)
      return app.fetch(request, env, ctx);
    const headers = new Headers(request.headers);
    headers.delete('upgrade');
    return app.fetch(new Request(request, { headers }), env, ctx);
  };
}

/**
 * A frame straight from `ws`: a Buffer (binaryType 'nodebuffer', fragments already joined, text
 * already UTF-8-validated) whose length is the byte count, instead of node-server's MessageEvent.
 */
function frameOf(data: RawData, isBinary: boolean): Frame {
  // Always a Buffer with ws's default binaryType; the other RawData forms only for safety.
  const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return isBinary ? { kind: 'binary', bytes: buffer.length } : { kind: 'text', data: buffer.toString(), bytes: buffer.length };
}

/** Shared by every socket (`this` is the socket): an open socket's frames go to its receiver (its end: startHeartbeat). */
function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as ResettingWebSocket).receiver?.receive(frameOf(data, isBinary));
}
/** ws closes the socket after an 'error' (a protocol violation) and 'close' follows; unheard, it would throw. */
function onSocketError(): void {}

const SOCKET_EVENTS = ['message', 'close', 'error'] as const;

/**
 * node-server adds a 'message', a 'close' and an 'error' listener of its own right after `onOpen`
 * returns, closures that keep its per-socket context (an events object, a WSContext with a URL, the
 * upgrade's env and Hono context: about 2 KiB of heap per idle socket). They only forward to
 * events this adapter does not use (its own are attached in `onOpen` and on 'connection'), so once they
 * are in place (the same synchronous run: a microtask later) every listener added since `onOpen`
 * that is not ours is taken off, and that context is garbage.
 */
function dropNodeServerListeners(raw: ResettingWebSocket): void {
  const before = SOCKET_EVENTS.map((event) => raw.listeners(event));
  queueMicrotask(() => {
    SOCKET_EVENTS.forEach((event, i) => {
      for (const listener of raw.listeners(event))
        if (!before[i]!.includes(listener)) raw.off(event, listener as (...args: unknown[]) => void);
    });
  });
}

/** node-server's socket events, handed to the gateway's session as a port and a receiver. */
function socketEvents(session: SocketSession): NodeEvents {
  return {
    onOpen(_event, ws) {
      const raw = ws.raw as ResettingWebSocket;
      // Attached in onOpen, before ws can deliver the socket's first message.
      raw.on('message', onSocketMessage);
      raw.on('error', onSocketError);
      dropNodeServerListeners(raw);
      raw.receiver = session.opened(new WsSocketPort(raw));
    },
    onClose(_event, ws) {
      // Only before the socket opened (after onOpen, node-server's close listener is gone).
      if ((ws.raw as ResettingWebSocket).receiver === undefined) session.abandoned();
    },
  };
}

/**
 * node-server's per-socket closures keep the Context they were given reachable for the socket's
 * life: with Hono's own `c`, that is the upgrade's Request, headers, route match, context variables
 * and the IncomingMessage under `c.env.incoming` (together most of an idle socket's heap in a
 * snapshot). So node-server is handed a minimal context instead, holding only what it reads (the
 * `upgrade` header, the URL, env), and `env.incoming` is dropped once the socket is open (the
 * client IP was taken during the upgrade). Relies on what node-server 2.1.x reads from `c`; the
 * Node and Deno conformance and adversarial suites run through this path.
 */
function leanContext(c: Context): Context {
  const upgrade = c.req.header('upgrade');
  const url = c.req.url;
  return {
    env: c.env,
    req: { url, header: (name: string) => (name.toLowerCase() === 'upgrade' ? upgrade : undefined) },
  } as unknown as Context;
}

type NodeEvents = WSEvents<WebSocketLike>;

function releasingRequest(events: NodeEvents, env: { incoming?: unknown }): NodeEvents {
  return {
    ...events,
    onOpen(event, ws) {
      try {
        events.onOpen?.(event, ws);
      } finally {
        env.incoming = undefined;
      }
    },
  };
}

/** node-server's upgradeWebSocket with the lean context; `Upgrade` compared case-insensitively. */
const leanUpgradeWebSocket = defineWebSocketHelper<WebSocketLike>(async (c: Context, events: NodeEvents, options) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return undefined; // not an upgrade: next handler
  const lean = leanContext(c);
  return upgradeWebSocket(lean, releasingRequest(events, lean.env as { incoming?: unknown }), options);
});

/** The WebSocket upgrade of Node and Deno (node-server over `ws`) in the gateway's terms. */
export const wsSocketRuntime: SocketRuntime = {
  upgrade: (accept) => leanUpgradeWebSocket((c: Context) => socketEvents(accept(c))),
  topics: new WsTopics(),
};

export const nodeClientIp = (c: Context): string | null => getConnInfo(c).remote.address ?? null;

/**
 * One listener: its own `ws` server (maxPayload bounds every message, fragmented or not, before
 * and after auth), heartbeat and timeouts, so the metrics and main listeners share nothing.
 */
export function listenWithWs(app: Hono, options: ListenOptions): Promise<Listening> {
  return new Promise<Listening>((resolve, reject) => {
    // No clientTracking: nothing reads wss.clients (the heartbeat keeps its own set), and it costs a close closure per socket.
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxPayloadBytes,
      WebSocket: ResettingWebSocket,
    });
    wss.on('connection', (ws: ResettingWebSocket, request: IncomingMessage) => {
      ws.tcp = request.socket;
    });
    const stopHeartbeat = startHeartbeat(wss, options.heartbeat);
    const tls = options.tls
      ? {
          createServer: createHttpsServer,
          serverOptions: {
            ...HTTP_TIMEOUTS,
            handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
            cert: options.tls.cert,
            key: options.tls.key,
            minVersion: 'TLSv1.2' as const,
            ciphers: TLS_CIPHERS,
            ecdhCurve: 'X25519:P-256:P-384',
            honorCipherOrder: true,
          },
        }
      : { serverOptions: HTTP_TIMEOUTS };
    const server = serve(
      { fetch: withoutHalfUpgrade(app), port: options.port, hostname: options.host, websocket: { server: wss }, ...tls },
      (info: AddressInfo) =>
        resolve({
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              stopHeartbeat();
              server.close(() => done());
            }),
        }),
    ) as Server;
    // Belt and braces: serverOptions set these at creation; the properties are what Node reads.
    server.headersTimeout = HTTP_TIMEOUTS.headersTimeout;
    server.requestTimeout = HTTP_TIMEOUTS.requestTimeout;
    server.keepAliveTimeout = HTTP_TIMEOUTS.keepAliveTimeout;
    guardUpgrades(server);
    server.once('close', stopHeartbeat);
    server.once('error', (error) => {
      stopHeartbeat();
      reject(error);
    });
  });
}
