/* global performance, process */
/**
 * Deliveries across instances (issue 17, Redis Cluster): `subscribers` sockets split over the
 * `subscribeOn` servers, subscriber i on channel `chat:x<i % channels>`; one socket on the
 * `publishOn` server publishes 64-byte payloads round-robin over the channels, keeping at most
 * `window` publishes undelivered (acked and counted at every subscriber of its channel), so
 * nothing piles up in send buffers. Every delivery crosses Redis. Counts deliveries in the window.
 */
import { emit, params, PAYLOAD_64, rawConnector, sleep } from './common.mjs';
import { clientFrame } from './raw.mjs';

const { publishOn, subscribeOn, subscribers = 400, channels = 6, window = 8, warmupMs = 1000, measureMs = 4000 } = params;
const channelNames = Array.from({ length: channels }, (_, i) => `chat:x${i}`);
const perChannel = subscribers / channels;
if (!Number.isInteger(perChannel)) throw new Error('subscribers must be a multiple of channels');

let delivered = 0;
let published = 0;
let acked = 0;
let running = true;
let send;
const subs = [];
const connectors = await Promise.all(subscribeOn.map((server) => rawConnector(server)));
for (let i = 0; i < subscribers; i += 50) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(50, subscribers - i) }, async (_, k) => {
      const n = i + k;
      const socket = await connectors[n % connectors.length]();
      await new Promise((resolve, reject) => {
        socket.onText((text) => (/"type":"ok"/.test(text) ? resolve() : reject(new Error(`subscribe: ${text.slice(0, 200)}`))));
        socket.write(clientFrame(JSON.stringify({ type: 'subscribe', id: 1, channel: channelNames[n % channels] })));
      });
      socket.onCount((count) => {
        delivered += count;
        pump();
      });
      return socket;
    }),
  );
  subs.push(...batch);
}
await sleep(500);
delivered = 0;

const publisher = await (await rawConnector(publishOn))();
const frames = channelNames.map((channel) => clientFrame(JSON.stringify({ type: 'publish', id: 2, channel, data: PAYLOAD_64 })));
publisher.onCount((count) => {
  acked += count;
  pump();
});
send = () => publisher.write(frames[published % channels]);

function pump() {
  if (send === undefined) return;
  while (running && published - acked < window && published * perChannel - delivered < window * perChannel) {
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
emit({ phase: 'measure-end', deliveries, seconds, perSecond: deliveries / seconds, publications: deliveries / perChannel });
running = false;
for (const socket of [...subs, publisher]) socket.destroy();
await sleep(50);
process.exit(0);
