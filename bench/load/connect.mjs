/* global process, performance */
/**
 * Scenario 3, connects: `lanes` loops, each doing one whole connect after another and closing
 * it (close handshake, server closes TCP). For the product a connect is POST /auth/ticket with
 * the session cookie, the upgrade, the auth frame, verification and auth.ok; for socket.io the
 * upgrade, engine.io open, CONNECT with a signed token (checked by its middleware) and the ack.
 */
import { emit, params, rawConnector, sleep } from './common.mjs';

const { server, lanes = 8, warmupMs = 1000, measureMs = 3000 } = params;
const connect = await rawConnector(server);
let done = 0;
let failures = 0;
let running = true;
let lastError = null;
const lane = async () => {
  while (running) {
    try {
      const socket = await connect();
      done++;
      await socket.close();
    } catch (error) {
      failures++;
      lastError = String(error?.message ?? error).slice(0, 200);
      await sleep(10);
    }
  }
};
const all = Array.from({ length: lanes }, lane);
await sleep(warmupMs);
const start = done;
const startFailures = failures;
emit({ phase: 'measure-start' });
const t0 = performance.now();
await sleep(measureMs);
const seconds = (performance.now() - t0) / 1000;
const connects = done - start;
emit({ phase: 'measure-end', connects, seconds, perSecond: connects / seconds, failures: failures - startFailures, lastError });
running = false;
await Promise.race([Promise.all(all), sleep(2000)]);
process.exit(0);
