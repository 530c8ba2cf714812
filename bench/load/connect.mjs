/* global process, performance */
/**
 * Scenario 3, connects: `lanes` loops, each doing one whole connect after another and closing
 * it (close handshake, server closes TCP). For the product a connect is POST /auth/ticket with
 * the session cookie, the upgrade, the auth frame, verification and auth.ok; for socket.io the
 * upgrade, engine.io open, CONNECT with a signed token (checked by its middleware) and the ack.
 *
 * With `ticketsAhead` (scenario 3b, gateway connect), the product's tickets are all issued before
 * the warm-up, so a connect is the upgrade, the auth frame, verification, auth.ok and the close.
 * If the tickets run out first, the window ends there (its figures are per second either way).
 * socket.io connects as in scenario 3.
 */
import { emit, params, preissuedConnector, rawConnector, sleep } from './common.mjs';

const { server, lanes = 8, warmupMs = 1000, measureMs = 3000, ticketsAhead = 0 } = params;
const pool = ticketsAhead > 0 && server.kind === 'product' ? await preissuedConnector(server, ticketsAhead) : null;
const connect = pool?.connect ?? (await rawConnector(server));
let done = 0;
let failures = 0;
let running = true;
let lastError = null;
let ranDry;
const dry = new Promise((resolve) => (ranDry = resolve));
const lane = async () => {
  while (running) {
    if (pool !== null && pool.left() === 0) return ranDry();
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
await Promise.race([sleep(measureMs), dry]);
const seconds = (performance.now() - t0) / 1000;
const connects = done - start;
emit({
  phase: 'measure-end',
  connects,
  seconds,
  perSecond: connects / seconds,
  failures: failures - startFailures,
  lastError,
  ...(pool === null ? {} : { ticketsLeft: pool.left() }),
});
running = false;
await Promise.race([Promise.all(all), sleep(2000)]);
process.exit(0);
