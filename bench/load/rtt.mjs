/* global performance, process, setTimeout */
/**
 * Scenario 2, round trip at low depth: `connections` sockets, one echo in flight each; every
 * reply's round-trip time is recorded during the window. With `intervalMs`, one echo per interval:
 * the light probe of scenario 4. With `server.message === 'rpc'` (issue 15), the message is an
 * rpc `echo` answered by the application's backend through the hook instead of the in-process echo.
 */
import { echoFrame, emit, params, PAYLOAD_64, rawConnector, sleep } from './common.mjs';
import { clientFrame, socketIoMessage } from './raw.mjs';

const { server, connections = 10, warmupMs = 500, measureMs = 3000, intervalMs = 0, trace = false } = params;
const connect = await rawConnector(server);
const sockets = [];
for (let i = 0; i < connections; i++) sockets.push(await connect());

let recording = false;
const samples = [];
/** With `trace`: [send time (epoch ms), round trip (ms)] of every recorded sample, for lining up with other events. */
const traced = [];
for (const [i, socket] of sockets.entries()) {
  const text = server.message === 'rpc' ? JSON.stringify({ type: 'rpc', id: i, method: 'echo', data: PAYLOAD_64 }) : echoFrame(i);
  const frame = clientFrame(server.kind === 'socketio' ? socketIoMessage(text) : text);
  let sentAt = 0;
  const send = () => {
    sentAt = performance.now();
    socket.write(frame);
  };
  socket.onCount(() => {
    const rtt = performance.now() - sentAt;
    if (recording) {
      samples.push(rtt);
      if (trace) traced.push([performance.timeOrigin + sentAt, rtt]);
    }
    // A probe (intervalMs > 0) sends one echo per interval; otherwise the next goes at once.
    if (intervalMs > 0) setTimeout(send, Math.max(0, intervalMs - rtt));
    else send();
  });
  send();
}
await sleep(warmupMs);
recording = true;
emit({ phase: 'measure-start' });
await sleep(measureMs);
recording = false;
samples.sort((a, b) => a - b);
const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] * 1000;
emit({
  phase: 'measure-end',
  samples: samples.length,
  p50Us: at(0.5),
  p90Us: at(0.9),
  p99Us: at(0.99),
  maxUs: at(1),
  perSecond: samples.length / (measureMs / 1000),
  ...(trace ? { trace: traced } : {}),
});
for (const socket of sockets) socket.destroy();
await sleep(50);
process.exit(0);
