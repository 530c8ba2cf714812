/**
 * Where `/metrics` is served: its own listener (default 127.0.0.1:9464, the port Prometheus
 * exporters conventionally use), and, only when `--metrics-token` is set, the main port behind
 * `Authorization: Bearer`. The main port never serves metrics unauthenticated: it faces clients.
 */
import { Hono, type Context } from 'hono';
import { bearerGuard } from '../auth/bearer-guard.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { GatewayMetrics } from './metrics.ts';
import { listenConfigError } from './listen-errors.ts';
import type { Listening, Platform } from './platform.ts';

const serve = async (c: Context, metrics: GatewayMetrics) =>
  c.body(await metrics.scrape(), 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });

/** The metrics listener's whole app: GET /metrics, nothing else. */
export function metricsApp(metrics: GatewayMetrics): Hono {
  const app = new Hono();
  app.get('/metrics', (c) => serve(c, metrics));
  app.notFound((c) => c.text('Not Found', 404));
  return app;
}

/** `/metrics` for the main port, behind the bearer token (compared in constant time). */
export function protectedMetricsRoutes(metrics: GatewayMetrics, token: string, logger: Logger): Hono {
  const app = new Hono();
  app.get(
    '/metrics',
    bearerGuard(token, (c) => logger.warn({ path: c.req.path }, 'metrics.denied')),
    (c) => serve(c, metrics),
  );
  return app;
}

/** Starts the metrics listener unless `--metrics-port off`; logs `metrics.listening` with its URL. */
export async function listenMetrics(
  config: Config,
  platform: Platform,
  metrics: GatewayMetrics,
  logger: Logger,
): Promise<Listening | null> {
  if (config.metricsPort === null) return null;
  const listening = await platform
    .listen(metricsApp(metrics), {
      port: config.metricsPort,
      host: config.metricsHost,
      // No WebSocket route on this listener; these only satisfy the listen contract.
      maxPayloadBytes: 1024,
      maxBufferedBytes: 1024,
      heartbeat: { intervalMs: 60_000, timeoutMs: 60_000 },
    })
    .catch((error: unknown) => {
      throw (
        listenConfigError(error, {
          portOption: 'metrics-port',
          hostOption: 'metrics-host',
          host: config.metricsHost,
          port: config.metricsPort!,
        }) ?? error
      );
    });
  const host = config.metricsHost.includes(':') ? `[${config.metricsHost}]` : config.metricsHost;
  logger.info({ url: `http://${host}:${listening.port}/metrics` }, 'metrics.listening');
  return listening;
}
