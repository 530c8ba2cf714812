/** Helpers for running the SDK in Node against a real server process. */
import WebSocket from 'ws';
import {
  connect,
  fetchTicket,
  type Client,
  type ClientState,
  type ConnectOptions,
  type TicketGrant,
  type WebSocketConstructor,
} from '../../src/client/index.ts';
import { startServer, type RuntimeTarget, type ServerProcess, type StartOptions } from '../support/server-process.ts';

/**
 * A getTicket for non-browser clients: the SDK's fetchTicket with HTTP Basic auth (no cookie
 * session, so it keeps working across a server restart). A 401 is a TicketError with status 401.
 */
export function basicTicketSource(origin: () => string, user = 'demo', password = 'demo'): () => Promise<TicketGrant> {
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return () => fetchTicket(`${origin()}/auth/ticket`, { headers: { authorization } });
}

/** Node 20 has no global WebSocket: `ws` provides one (its EventTarget API fits the SDK's needs). */
export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

export function nodeClient(server: () => ServerProcess, options: Partial<ConnectOptions> = {}): Client {
  return connect({ url: server().wsUrl, getTicket: basicTicketSource(() => server().origin), WebSocket: NodeWebSocket, ...options });
}

export function waitForState(client: Client, state: ClientState, timeoutMs = 20_000): Promise<void> {
  if (client.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`client did not reach ${state} within ${timeoutMs} ms (state ${client.state})`));
    }, timeoutMs);
    const off = client.on('state', (e) => {
      if (e.state !== state) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Stops `server` (SIGTERM: sockets get 1001 with a reconnect hint) and starts the same runtime on the same port. */
export async function restartOnSamePort(runtime: RuntimeTarget, server: ServerProcess, options: StartOptions): Promise<ServerProcess> {
  await server.stop();
  return startServer(runtime, { ...options, args: [...(options.args ?? []), '--port', String(server.port)] });
}
