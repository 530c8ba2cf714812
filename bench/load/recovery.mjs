/* global process, performance */
/**
 * The recovery storm (issue 14): `subscribers` sockets subscribe to one channel and receive
 * `missed` publications live (window "live": deliveries = subscribers × missed); then as many
 * fresh authenticated sockets replace them, `missed` more are published while nobody listens, and
 * every fresh socket sends subscribe with `since` (the position before those) at once (window
 * "storm"): each must get exactly those publications, in order, then `ok` with recovered:true.
 */
import { emit, params, PAYLOAD_64, rawConnector, sleep } from './common.mjs';

const { server, subscribers = 500, missed = 100, channel = 'chat:storm' } = params;
const connect = await rawConnector(server);

async function connectMany(n) {
  const out = [];
  for (let i = 0; i < n; i += 50) out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => connect()))));
  return out;
}

// The publisher: one publish in flight at a time per window slot, each reply parsed (its offset and epoch).
const publisher = await connect();
let lastOk = null;
let acked = 0;
/** Sends what the current publish() allows; called on every ack and delivery. */
let pump = () => {};
publisher.onText((text) => {
  const m = JSON.parse(text);
  if (m.type === 'error') throw new Error(`publish refused: ${text}`);
  if (m.type !== 'ok') return;
  acked++;
  lastOk = m;
  pump();
});
let sent = 0;
const publishFrame = JSON.stringify({ type: 'publish', id: 'p', channel, data: PAYLOAD_64 });
/** Publishes `n` with at most `window` unacknowledged (and, with `perPublish`, undelivered to that many sockets). */
function publish(n, { window = 2, delivered = () => 0, perPublish = 0 } = {}) {
  const target = sent + n;
  return new Promise((resolve) => {
    pump = () => {
      while (sent < target && sent - acked < window && (perPublish === 0 || sent * perPublish - delivered() < window * perPublish)) {
        sent++;
        publisher.sendText(publishFrame);
      }
      if (acked >= target && (perPublish === 0 || delivered() >= target * perPublish)) resolve();
    };
    pump();
  });
}

// Live: subscribers count their deliveries.
const live = await connectMany(subscribers);
let deliveredCount = 0;
await Promise.all(
  live.map(
    (socket) =>
      new Promise((resolve, reject) => {
        socket.onText((text) => (text.includes('"type":"ok"') ? resolve() : reject(new Error(`subscribe: ${text.slice(0, 200)}`))));
        socket.sendText(JSON.stringify({ type: 'subscribe', id: 's', channel }));
      }),
  ),
);
for (const socket of live)
  socket.onCount((n) => {
    deliveredCount += n;
    pump();
  });
// Warm-up, not measured.
await publish(20, { delivered: () => deliveredCount, perPublish: subscribers });
const fromLive = deliveredCount;
emit({ phase: 'measure-start', window: 'live' });
await publish(missed, { delivered: () => deliveredCount, perPublish: subscribers });
emit({ phase: 'measure-end', window: 'live', deliveries: deliveredCount - fromLive });

// The same number of fresh sockets; the old ones go.
const since = { offset: lastOk.offset, epoch: lastOk.epoch };
const fresh = await connectMany(subscribers);
for (const socket of live) socket.destroy();
await sleep(1000);
await publish(missed);

// The storm: every fresh socket resubscribes with `since` at once.
let recovered = 0;
let publications = 0;
let answered = 0;
let bad = 0;
let finish;
const allAnswered = new Promise((resolve) => (finish = resolve));
const expectedFirst = since.offset + 1;
for (const socket of fresh) {
  let next = expectedFirst;
  socket.onText((text) => {
    if (text.startsWith('{"type":"message"')) {
      const offset = Number(/"offset":(\d+)/.exec(text)?.[1]);
      if (offset === next) next++;
      else bad++;
      publications++;
      return;
    }
    const m = JSON.parse(text);
    if (m.id !== 'r') return;
    answered++;
    if (m.type === 'ok' && m.recovered === true && next === expectedFirst + missed) recovered++;
    else bad++;
    if (answered === subscribers) finish();
  });
}
const frame = JSON.stringify({ type: 'subscribe', id: 'r', channel, since });
emit({ phase: 'measure-start', window: 'storm' });
const t0 = performance.now();
for (const socket of fresh) socket.sendText(frame);
await allAnswered;
const ms = performance.now() - t0;
emit({ phase: 'measure-end', window: 'storm', recovered, publications, bad, ms });
for (const socket of [...fresh, publisher]) socket.destroy();
await sleep(50);
process.exit(0);
