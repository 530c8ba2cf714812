/**
 * A listener that could not start, turned into one line that names the option to change
 * (`--port`, `--metrics-port`, `--host`). Node, Bun and Deno all set `code` on these errors.
 */
import { ConfigError } from '../config/index.ts';

export interface ListenTarget {
  /** The option that chose the port: `port` or `metrics-port`. */
  readonly portOption: 'port' | 'metrics-port' | 'api-port';
  readonly hostOption: 'host' | 'metrics-host' | 'api-host';
  readonly host: string;
  readonly port: number;
}

/** A ConfigError for the errors a user fixes with an option; null for anything else. */
export function listenConfigError(error: unknown, target: ListenTarget): ConfigError | null {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError(
        target.portOption,
        `${where} is already in use (choose another port with --${target.portOption}, or 0 for a free one)`,
      );
    case 'EACCES':
      return new ConfigError(target.portOption, `not permitted to listen on ${where} (ports below 1024 need root or CAP_NET_BIND_SERVICE)`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(target.hostOption, `${target.host} is not an address of this machine`);
    default:
      return null;
  }
}
