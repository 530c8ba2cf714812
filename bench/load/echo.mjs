/* global performance, process, setInterval */
/**
 * Scenario 1, echo throughput: `connections` raw sockets, each keeping `depth` echo requests
 * (64-byte payloads) in flight: every batch of replies is answered with as many new requests in
 * one write. Prints {"phase":"measure-start"} after the warm-up and {"phase":"measure-end",
 * replies} after the window; the harness reads the server's CPU between the two lines.
 */
import { echoFrame, emit, params, rawConnector, sleep } from './common.mjs';
import { clientFrame, repeated, socketIoMessage } from './raw.mjs';

const { server, connections = 16, depth = 64, warmupMs = 1000, measureMs = 3000, rate = 0 } = params;
const connect = await rawConnector(server);
const sockets = [];
for (let i = 0; i < connections; i++) sockets.push(await connect());

let replies = 0;
if (rate > 0) {
  // Paced (A/B experiments): `rate` echoes per second in total, at most `depth` in flight per
  // connection, so every server does the same work per second and its CPU is compared directly.
  const frames = sockets.map((_, i) => clientFrame(server.kind === 'socketio' ? socketIoMessage(echoFrame(i)) : echoFrame(i)));
  const inFlight = sockets.map(() => 0);
  sockets.forEach((socket, i) =>
    socket.onCount((n) => {
      replies += n;
      inFlight[i] -= n;
    }),
  );
  let credit = 0;
  let next = 0;
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    credit += ((now - last) / 1000) * rate;
    last = now;
    for (let spins = 0; credit >= 1 && spins < sockets.length;) {
      if (inFlight[next] < depth) {
        sockets[next].write(frames[next]);
        inFlight[next]++;
        credit--;
        spins = 0;
      } else spins++;
      next = (next + 1) % sockets.length;
    }
    credit = Math.min(credit, rate / 100); // no catch-up bursts after a stall
  }, 2);
} else {
  for (const [i, socket] of sockets.entries()) {
    const text = echoFrame(i);
    const frame = clientFrame(server.kind === 'socketio' ? socketIoMessage(text) : text);
    const batch = repeated(frame, depth);
    socket.onCount((n) => {
      replies += n;
      socket.write(n === depth ? batch : batch.subarray(0, n * frame.length));
    });
    socket.write(batch);
  }
}
await sleep(warmupMs);
const startReplies = replies;
emit({ phase: 'measure-start' });
const started = performance.now();
await sleep(measureMs);
const seconds = (performance.now() - started) / 1000;
const measured = replies - startReplies;
emit({ phase: 'measure-end', replies: measured, seconds, perSecond: measured / seconds });
for (const socket of sockets) socket.destroy();
await sleep(50);
process.exit(0);
