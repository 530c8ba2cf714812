/**
 * One WebSocket for one connection attempt: it sends the auth frame as the very first frame the
 * moment the socket opens, then forgets the ticket (single use; nothing should keep it around).
 */
import type { WebSocketConstructor, WebSocketLike } from './types.ts';

export interface SocketEvents {
  /** The socket opened and the auth frame is on its way. */
  opened(): void;
  message(data: unknown): void;
  /** The socket ended (close event). Runtimes report 1006 for a lost connection or refused upgrade. */
  closed(code: number, reason: string): void;
}

export function openAuthenticatingSocket(
  WebSocketImpl: WebSocketConstructor,
  url: string,
  ticket: string,
  events: SocketEvents,
): WebSocketLike {
  let pending: string | null = ticket;
  const socket = new WebSocketImpl(url);
  socket.addEventListener('open', () => {
    const auth = JSON.stringify({ type: 'auth', ticket: pending });
    pending = null;
    socket.send(auth);
    events.opened();
  });
  socket.addEventListener('message', (event: { data: unknown }) => events.message(event.data));
  socket.addEventListener('close', (event: { code?: number; reason?: string }) => {
    pending = null;
    events.closed(typeof event.code === 'number' ? event.code : 1006, typeof event.reason === 'string' ? event.reason : '');
  });
  // An error is always followed by a close event, which carries what the client acts on.
  socket.addEventListener('error', () => {});
  return socket;
}
