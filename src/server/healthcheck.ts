/**
 * `hardened-ws healthcheck`: the container's liveness probe, for images without a shell or curl
 * (distroless). GET /healthz of the server that this environment configures (HOST, PORT, TLS and
 * their flags, and CONFIG's file, read as the server reads them); exit 0 on 200, otherwise 1 with one line on stderr.
 * Liveness, not readiness: a Redis outage must not make every container "unhealthy" at once.
 */
import { loadConfigWithFile, type Config } from '../config/index.ts';
import type { Platform } from './platform.ts';

/** Under the Dockerfile's `HEALTHCHECK --timeout=3s`, so the probe reports its own failure line. */
export const HEALTHCHECK_TIMEOUT_MS = 2_000;

const USAGE = `Usage: hardened-ws healthcheck [--config <file>] [--host <addr>] [--port <n>] [--tls]

GET /healthz of the local server (HOST, PORT and TLS as the server reads them, config file
included; 0.0.0.0 and ::
are reached on loopback). Exit status 0 on 200, 1 otherwise. With --tls the server's certificate
must be valid for that address and trusted (NODE_EXTRA_CA_CERTS, or DENO_CERT on Deno).
`;

export async function runHealthcheck(platform: Platform, argv: readonly string[]): Promise<never> {
  let url: string;
  try {
    const loaded = await loadConfigWithFile(argv, platform.env, (path) => platform.readTextFile(path));
    if (loaded.kind === 'help') {
      platform.writeStdout(USAGE);
      return platform.exit(0);
    }
    url = healthUrl(loaded.config);
  } catch (error) {
    return fail(platform, describe(error));
  }
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(HEALTHCHECK_TIMEOUT_MS) });
    await response.body?.cancel();
    if (response.status === 200) return platform.exit(0);
    return fail(platform, `GET ${url} answered ${response.status}`);
  } catch (error) {
    return fail(platform, `GET ${url} failed: ${describe(error)}`);
  }
}

/** The server's /healthz as seen from the same machine: a wildcard bind address is reached on loopback. */
export function healthUrl(config: Pick<Config, 'host' | 'port' | 'tls'>): string {
  if (config.port === 0) throw new Error('PORT is 0 (a free port chosen at start): set the port the server listens on');
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' || config.host === '[::]' ? '::1' : config.host;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${config.tls ? 'https' : 'http'}://${bracketed}:${config.port}/healthz`;
}

function fail(platform: Platform, message: string): never {
  platform.writeStderr(`hardened-ws healthcheck: ${message}\n`);
  return platform.exit(1);
}

/** One short line: fetch errors keep the useful part in `cause` (Node) or a multi-line message (Deno). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 200);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
  const text = cause?.message ?? error.message;
  const line = `${typeof code === 'string' && !text.includes(code) ? `${code} ` : ''}${text}`.replace(/\s+/g, ' ').trim();
  return (error.name === 'TimeoutError' ? `no answer within ${HEALTHCHECK_TIMEOUT_MS} ms` : line).slice(0, 200);
}
