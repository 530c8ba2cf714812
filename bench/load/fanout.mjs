/* global fetch, process, performance */
/**
 * Scenario 5, fan-out: `subscribers` sockets subscribe to `chat:bench`; one more socket publishes
 * 64-byte payloads to it, keeping at most `window` publishes undelivered (acked and counted at
 * every subscriber), so nothing piles up in send buffers. Counts deliveries in the window.
 * With `server.publisher === 'api'` (issue 15), the publishes are POST /api/publish calls instead
 * (keep-alive, acked by their 200), the same payload, channel and window.
 */
import { emit, params, PAYLOAD_64, rawConnector, sleep } from './common.mjs';
import { clientFrame, socketIoMessage } from './raw.mjs';

const { server, subscribers = 1000, window = 2, warmupMs = 1000, measureMs = 3000, channel = 'chat:bench' } = params;
const connect = await rawConnector(server);
const frameOf = (object) => {
  const text = JSON.stringify(object);
  return clientFrame(server.kind === 'socketio' ? socketIoMessage(text) : text);
};

let delivered = 0;
// Declared before any socket exists: a subscriber's frame may call pump() early (then it does nothing).
let publisher;
/** Sends one publish: a frame on the publisher's socket, or an API call. */
let send;
let published = 0;
let acked = 0;
let running = true;
const publishFrame = frameOf({ type: 'publish', id: 2, channel, data: PAYLOAD_64 });
const subs = [];
// Connected and subscribed a few dozen at a time.
for (let i = 0; i < subscribers; i += 50) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(50, subscribers - i) }, async () => {
      const socket = await connect();
      await new Promise((resolve, reject) => {
        socket.onText((text) => (/\\?"type\\?":\\?"ok\\?"/.test(text) ? resolve() : reject(new Error(`subscribe: ${text.slice(0, 200)}`))));
        socket.write(frameOf({ type: 'subscribe', id: 1, channel }));
      });
      socket.onCount((n) => {
        delivered += n;
        pump();
      });
      return socket;
    }),
  );
  subs.push(...batch);
}

// Subscribing may have caused other frames (the product's default `chat` sends join events to the
// other subscribers): let them land, then count from zero, so only publications count.
await sleep(server.kind === 'product' ? 500 : 0);
delivered = 0;
if (server.publisher === 'api') {
  const url = `${server.origin}/api/publish`;
  const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ channel, data: PAYLOAD_64 });
  publisher = null;
  send = () =>
    fetch(url, { method: 'POST', headers, body }).then(async (res) => {
      if (res.status !== 200) throw new Error(`api publish: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      acked++;
      pump();
    });
} else {
  publisher = await connect();
  publisher.onCount((n) => {
    acked += n;
    pump();
  });
  send = () => publisher.write(publishFrame);
}
function pump() {
  if (send === undefined) return; // a frame before the publisher exists (a join event)
  // Next publish once fewer than `window` publishes are still unacknowledged or undelivered.
  while (running && published - acked < window && published * subscribers - delivered < window * subscribers) {
    published++;
    send();
  }
}
pump();
await sleep(warmupMs);
const start = delivered;
emit({ phase: 'measure-start' });
const t0 = performance.now();
await sleep(measureMs);
const seconds = (performance.now() - t0) / 1000;
const deliveries = delivered - start;
emit({
  phase: 'measure-end',
  deliveries,
  seconds,
  perSecond: deliveries / seconds,
  publishesPerSecond: deliveries / subscribers / seconds,
});
running = false;
for (const socket of [...subs, ...(publisher ? [publisher] : [])]) socket.destroy();
await sleep(50);
process.exit(0);
