/** The server command's view of a runtime (implemented by src/runtime/{node,bun,deno}.ts). */
import type { Context, Hono } from 'hono';
import type { AuditHost } from '../audit/host.ts';
import type { SocketRuntime } from '../core/socket-port.ts';
import type { Sha256 } from '../auth-service/crypto.ts';

export type RuntimeName = 'node' | 'bun' | 'deno';

export interface ListenOptions {
  readonly port: number;
  readonly host: string;
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Native frame size limit where the runtime has one; the gateway checks again everywhere. */
  readonly maxPayloadBytes: number;
  /**
   * Bytes queued for one client before it is a slow consumer (`--max-buffered`). The gateway
   * enforces it for messages; the runtime for the pongs it sends by itself (a ping flood from a
   * client that reads nothing).
   */
  readonly maxBufferedBytes: number;
  /** Protocol-level pings: every `intervalMs`; a peer silent for `timeoutMs` after a ping is dropped. */
  readonly heartbeat: { readonly intervalMs: number; readonly timeoutMs: number };
}

export interface Listening {
  readonly port: number;
  /** Stops accepting and closes the listener (after the gateway closed its sockets). */
  close(): Promise<void>;
}

/**
 * Everything the server command needs from a runtime. Implemented by src/runtime/{node,bun,deno}.ts,
 * the only files that touch node:*, ws, Bun or Deno.
 */
export interface Platform {
  readonly name: RuntimeName;
  readonly version: string;
  /** The WebSocket upgrade: one port and one receiver per socket. */
  readonly socketRuntime: SocketRuntime;
  /** The connection's peer address (read once per request, before any middleware; see client-ip.ts). */
  clientIp(c: Context): string | null;
  /** A file of static/ by its name (from the fixed list in static-files.ts), or null. */
  readStatic(name: string): Promise<Uint8Array | null>;
  readTextFile(path: string): Promise<string>;
  listen(app: Hono, options: ListenOptions): Promise<Listening>;
  /**
   * The HTTP client of the server's own calls to the application's backend (the hooks): fetch's
   * signature for a POST. Absent: the global fetch (Node supplies a cheaper one).
   */
  readonly post?: (
    url: string,
    init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
  ) => Promise<Response>;
  /** The runtime's native SHA-256 for the embedded auth service's session ids; absent: @noble/hashes in JS. */
  readonly sha256?: Sha256;
  onShutdownSignal(handler: (signal: string) => void): void;
  /** Raw TCP/TLS for `hardened-ws audit`, loaded only when that command runs. */
  auditHost(): Promise<AuditHost>;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  exit(code: number): never;
}
