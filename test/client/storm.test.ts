/**
 * Reconnect storm: 500 SDK clients on one server (Node), the server restarts on the same port.
 * The server's 1001 close carries a random retry-after-ms hint per socket (0–5 s) and the SDK adds
 * full-jitter backoff for attempts that find the port still closed, so the verifications of the
 * new server arrive spread out instead of in one wave. Measured from the new server's `auth.ok`
 * log lines (their pino `time`) and from the clients' own close → open times.
 *
 * Bounds asserted: every client is back within 30 s; the busiest 100 ms sees at most 15% of the
 * clients verify; the verifications span at least 2 s. (Without jitter all 500 would land in the
 * same few 100 ms windows the moment the port opens.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { projectRoot, startServer, type ServerProcess } from '../support/server-process.ts';
import type { Client } from '../../src/client/index.ts';
import { nodeClient, restartOnSamePort, waitForState } from './real-server.ts';

const CLIENTS = 500;
const PEAK_SHARE = 0.15;
const MIN_SPREAD_MS = 2_000;

const serverOptions = {
  env: { LOG_LEVEL: 'info' },
  args: [
    '--demo-users',
    'demo:demo',
    '--max-connections-per-ip',
    '2000',
    '--upgrade-rate',
    '5000/s,5000',
    '--login-rate',
    '5000/s,5000',
    '--ticket-rate',
    '5000/s,5000',
    '--max-connections-per-user',
    '2000',
  ],
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

describe('reconnect storm', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  const clients: Client[] = [];
  after(async () => {
    for (const client of clients) client.close();
    await server?.stop();
  });

  it(`${CLIENTS} clients come back spread out after a server restart`, async (t) => {
    server = await startServer('node', serverOptions);
    for (let i = 0; i < CLIENTS; i++) clients.push(nodeClient(() => server));
    await Promise.all(clients.map((c) => waitForState(c, 'open', 30_000)));

    const closedAt = new Map<Client, number>();
    const backAt = new Map<Client, number>();
    const hints: number[] = [];
    for (const client of clients) {
      client.on('close', (c) => {
        if (closedAt.has(client)) return;
        closedAt.set(client, Date.now());
        if (c.retryAfterMs !== undefined) hints.push(c.retryAfterMs);
      });
      client.on('open', () => backAt.set(client, Date.now()));
    }

    const restartAt = Date.now();
    server = await restartOnSamePort('node', server, serverOptions);
    const upAt = Date.now();
    await Promise.all(clients.map((c) => waitForState(c, 'open', 30_000)));
    const allBackAt = Date.now();

    // Server side: when each verification succeeded on the new server (its log may lag a little).
    const authTimes = () =>
      server
        .logs()
        .filter((line) => line.msg === 'auth.ok')
        .map((line) => Number(line.time))
        .sort((a, b) => a - b);
    for (let i = 0; i < 50 && authTimes().length < CLIENTS; i++) await new Promise((r) => setTimeout(r, 100));
    const auths = authTimes();
    assert.equal(auths.length, CLIENTS, 'every client verified exactly once on the new server');
    const bins = new Map<number, number>();
    for (const time of auths) bins.set(Math.floor(time / 100), (bins.get(Math.floor(time / 100)) ?? 0) + 1);
    const peak = Math.max(...bins.values());
    const spreadMs = auths.at(-1)! - auths[0]!;

    // Client side: how long each was away.
    const away = clients.map((c) => backAt.get(c)! - closedAt.get(c)!).sort((a, b) => a - b);
    const report = {
      clients: CLIENTS,
      restartMs: upAt - restartAt,
      allBackMs: allBackAt - restartAt,
      hintsReceived: hints.length,
      reconnectDelayMs: { p50: percentile(away, 50), p95: percentile(away, 95), max: away.at(-1) },
      authsSpreadMs: spreadMs,
      peakAuthsPer100ms: peak,
      busiest100msWindows: [...bins.values()].sort((a, b) => b - a).slice(0, 5),
      bounds: { peakAuthsPer100ms: Math.floor(CLIENTS * PEAK_SHARE), minSpreadMs: MIN_SPREAD_MS },
    };
    t.diagnostic(`storm: ${JSON.stringify(report)}`);
    const dir = path.join(projectRoot, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'reconnect-storm.json'), `${JSON.stringify(report, null, 2)}\n`);

    assert.ok(allBackAt - restartAt < 30_000, 'all back within 30 s');
    assert.ok(peak <= CLIENTS * PEAK_SHARE, `peak ${peak} auths in 100 ms exceeds ${CLIENTS * PEAK_SHARE}`);
    assert.ok(spreadMs >= MIN_SPREAD_MS, `verifications spread over only ${spreadMs} ms`);
    const echoes = await Promise.all(clients.slice(0, 20).map((c, i) => c.request({ type: 'echo', data: i })));
    assert.deepEqual(
      echoes.map((r) => r.data),
      [...Array(20).keys()],
      'and they work',
    );
  });
});
