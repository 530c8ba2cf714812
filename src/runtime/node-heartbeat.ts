/**
 * Dead-peer reaping on Node, the `ws` recipe with times: a socket is pinged once `intervalMs` has
 * passed since its last pong, and terminated (no close frame; both sides see 1006) if that ping is
 * still unanswered `timeoutMs` later. Only a pong counts as an answer.
 *
 * Sockets wait in two insertion-ordered maps, `idle` (by when they last answered) and `awaiting`
 * (by when their ping went out), so each tick looks only at the heads that are due instead of
 * walking every socket. Pings per tick are capped: 19,000 sockets that connected together are
 * pinged over a few ticks, not in one synchronous loop that stalls every other socket.
 */
import type { WebSocket, WebSocketServer } from 'ws';

export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** Short ticks with small batches: each tick's pings are one synchronous loop that others wait behind. */
const TICK_MS = 25;
/** At least this many pings per tick, and twice the steady-state rate (all sockets once per interval). */
const MIN_PINGS_PER_TICK = 50;

export function startHeartbeat(wss: WebSocketServer, { intervalMs, timeoutMs }: HeartbeatOptions): () => void {
  const idle = new Map<WebSocket, number>();
  const awaiting = new Map<WebSocket, number>();

  // Shared listeners (`this` is the socket): no closure per socket.
  function onPong(this: WebSocket) {
    awaiting.delete(this);
    idle.delete(this); // re-inserted at the tail: the most recently answered
    idle.set(this, Date.now());
  }
  function onClose(this: WebSocket) {
    idle.delete(this);
    awaiting.delete(this);
  }
  // node-server emits 'connection' on our wss for every upgraded socket (after handleUpgrade).
  wss.on('connection', (ws: WebSocket) => {
    idle.set(ws, Date.now());
    ws.on('pong', onPong);
    ws.on('close', onClose);
  });

  const tick = setInterval(() => {
    const now = Date.now();
    for (const [ws, pingedAt] of awaiting) {
      if (now - pingedAt < timeoutMs) break;
      awaiting.delete(ws);
      ws.terminate();
    }
    let budget = Math.max(MIN_PINGS_PER_TICK, Math.ceil(((idle.size + awaiting.size) * TICK_MS * 2) / intervalMs));
    for (const [ws, answeredAt] of idle) {
      if (now - answeredAt < intervalMs || budget-- === 0) break;
      idle.delete(ws);
      awaiting.set(ws, now);
      ws.ping();
    }
  }, Math.min(TICK_MS, intervalMs, timeoutMs));
  tick.unref();
  return () => clearInterval(tick);
}
