/**
 * The `hardened-ws` server command, the same on every runtime: read config, assemble, listen,
 * and on SIGTERM/SIGINT drain (readiness, upgrades, logins and tickets 503; sockets closed with
 * 1001 and a retry hint) and exit 0. `hardened-ws healthcheck` is the container's liveness probe.
 */
import { ConfigError, helpText, loadConfigWithFile, type Config } from '../config/index.ts';
import { CloseCodes } from '../protocol/close-codes.ts';
import type { Logger } from '../logging/logger.ts';
import { assembleServer } from './assemble.ts';
import { runHealthcheck } from './healthcheck.ts';
import { listenConfigError } from './listen-errors.ts';
import { createLogger } from '../logging/pino.ts';
import { listenMetrics } from './metrics-http.ts';
import { isApiCommand, runApiCommand } from '../api/cli.ts';
import { listenApi } from './server-api.ts';
import type { Platform } from './platform.ts';

export async function runServerCommand(platform: Platform): Promise<void> {
  if (platform.argv[0] === 'healthcheck') return runHealthcheck(platform, platform.argv.slice(1));
  if (isApiCommand(platform.argv[0])) return runApiCommand(platform, platform.argv);
  if (platform.argv[0] === 'audit') {
    // A tool, not the server: loaded only when asked for.
    const [{ runAuditCommand }, host] = await Promise.all([import('../audit/cli.ts'), platform.auditHost()]);
    platform.exit(await runAuditCommand(platform.argv.slice(1), host, platform.env));
  }
  let config: Config;
  try {
    const loaded = await loadConfigWithFile(platform.argv, platform.env, (path) => platform.readTextFile(path));
    if (loaded.kind === 'help') {
      platform.writeStdout(`${helpText('hardened-ws')}\n`);
      platform.exit(0);
    }
    config = loaded.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      platform.writeStderr(`hardened-ws: ${error.message}\n`);
      platform.exit(2);
    }
    throw error;
  }

  // Pretty lines go through the platform's stdout; JSON keeps pino's own fast destination.
  const logger =
    config.logFormat === 'pretty'
      ? createLogger(config.logLevel, (line) => platform.writeStdout(line), 'pretty')
      : createLogger(config.logLevel);
  try {
    await start(config, platform, logger);
  } catch (error) {
    const message =
      error instanceof ConfigError ? error.message : `startup failed: ${error instanceof Error ? error.message : String(error)}`;
    platform.writeStderr(`hardened-ws: ${message}\n`);
    platform.exit(error instanceof ConfigError ? 2 : 1);
  }
}

async function start(config: Config, platform: Platform, logger: Logger): Promise<void> {
  const server = assembleServer(config, platform, logger);
  const tls = config.tls
    ? { cert: await readPem(platform, config.cert, 'cert'), key: await readPem(platform, config.key, 'key') }
    : undefined;
  // Before the main listener, so that `metrics.listening` is logged before `listening` (tests read both, in that order).
  const metricsListening = await listenMetrics(config, platform, server.metrics, logger);
  const apiListening = await listenApi(config, platform, server.api, logger).catch(async (error: unknown) => {
    await metricsListening?.close();
    throw error;
  });
  const listening = await platform
    .listen(server.app, {
      port: config.port,
      host: config.host,
      tls,
      maxPayloadBytes: config.maxMessage,
      maxBufferedBytes: config.maxBuffered,
      heartbeat: { intervalMs: config.heartbeatInterval, timeoutMs: config.heartbeatTimeout },
    })
    .catch(async (error: unknown) => {
      await metricsListening?.close();
      await apiListening?.close();
      throw listenConfigError(error, { portOption: 'port', hostOption: 'host', host: config.host, port: config.port }) ?? error;
    });
  server.listeningOn(listening.port);
  const scheme = config.tls ? 'https' : 'http';
  logger.info(
    { runtime: platform.name, version: platform.version, url: `${scheme}://${urlHost(config.host)}:${listening.port}` },
    'listening',
  );
  if (config.authVerifyUrl === undefined) {
    // Where a newcomer goes next: the demo page (its login needs the embedded auth service).
    const page = `${scheme}://${urlHost(browsableHost(config.host))}:${listening.port}/client.html`;
    logger.info({ url: page }, `open ${page}`);
  }

  let stopping = false;
  platform.onShutdownSignal(async (signal) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, connections: server.gateway.connectionCount() }, 'shutdown.start');
    server.setDraining();
    // Each socket gets its own random reconnect hint (up to 5 s) so clients do not return in one wave.
    await server.gateway.closeAll({
      info: CloseCodes.goingAway,
      cause: 'shutdown',
      timeoutMs: config.drainTimeout,
      reconnectJitterMs: 5_000,
    });
    await listening.close();
    await metricsListening?.close();
    await apiListening?.close();
    await server.close();
    logger.info({}, 'shutdown.done');
    platform.exit(0);
  });
}

async function readPem(platform: Platform, path: string, option: 'cert' | 'key'): Promise<string> {
  try {
    return await platform.readTextFile(path);
  } catch {
    throw new ConfigError(option, `cannot read ${path} (run \`npm run cert\` to make a local CA and certificate)`);
  }
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);
/** A wildcard listen address is no address to open in a browser: its loopback twin is. */
const browsableHost = (host: string) => (host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host);
