/**
 * What the audit needs from the machine it runs on: raw TCP/TLS sockets, a shell for
 * `--ticket-cmd`, files and the terminal. Implemented by src/runtime/audit-host.ts (node:net and
 * node:tls, which behave alike on Node, Bun and Deno); tests may pass their own.
 */

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface TlsOptions {
  /** SNI and the name the certificate must match. */
  readonly servername: string;
  /** Extra CA certificates (PEM), trusted besides the system's roots. */
  readonly ca?: string;
  /** Refuse an untrusted, expired or mismatched certificate (the default for everything but the certificate probe). */
  readonly verify: boolean;
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
  /** OpenSSL cipher list for TLS ≤ 1.2 (TLS 1.3 suites are not affected). */
  readonly ciphers?: string;
  /** Allow what clients refuse today (TLS 1.0/1.1, SHA-1 signatures), to see whether the server still accepts it. */
  readonly legacy?: boolean;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
  readonly timeoutMs: number;
}

export interface PeerCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
}

/** What the TLS handshake settled on. */
export interface TlsSession {
  readonly protocol: string | null;
  /** OpenSSL name, e.g. ECDHE-RSA-AES128-GCM-SHA256 or TLS_AES_128_GCM_SHA256. */
  readonly cipher: string | null;
  readonly authorized: boolean;
  /** e.g. CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID. */
  readonly authorizationError: string | null;
  readonly certificate: PeerCertificate | null;
}

export interface SocketEvents {
  data(chunk: Uint8Array): void;
  /** The peer sent FIN. */
  end(): void;
  /** The socket is gone; `errorCode` (ECONNRESET, EPIPE, …) when it failed. */
  close(errorCode: string | null): void;
}

export interface RawSocket {
  readonly tls: TlsSession | null;
  /**
   * This connection's TCP ports as they were when it connected, for tools that look it up in the
   * kernel's tables (the adversarial suite reads /proc/net/tcp); undefined where the host does not say.
   */
  readonly localPort?: number | undefined;
  readonly remotePort?: number | undefined;
  /** Resolves true once handed to the kernel, false if the socket failed first. Never rejects. */
  write(bytes: Uint8Array): Promise<boolean>;
  pause(): void;
  resume(): void;
  /** Half-close (FIN) after pending writes. */
  end(): void;
  destroy(): void;
}

/** A connect that failed: `code` is ECONNREFUSED, ETIMEDOUT, ENOTFOUND, a TLS error code, … */
export class ConnectError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface AuditHost {
  /** node, bun or deno, with its version (for the report). */
  readonly runtime: string;
  /**
   * What this runtime's TLS client can do: Deno's (rustls) has neither TLS 1.0/1.1 nor a choice of
   * suites, and keeps reading a paused TLS socket (measured: a server flushed 64 MiB to a client
   * paused after 128 KiB), so it cannot play a reader that stops reading.
   */
  readonly tlsClient: { readonly legacyVersions: boolean; readonly cipherSelection: boolean; readonly pauseStopsReading: boolean };
  /** Rejects with ConnectError. */
  connect(options: ConnectOptions, events: SocketEvents): Promise<RawSocket>;
  /** Runs `command` in a shell; stdout is returned (at most 64 KiB), stderr is discarded. */
  runCommand(
    command: string,
    options: { readonly timeoutMs: number; readonly env: Readonly<Record<string, string>> },
  ): Promise<{ readonly exitCode: number | null; readonly stdout: string }>;
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  /** Resolves once written (the report must be complete before the process exits). */
  writeStdout(text: string): Promise<void>;
  writeStderr(text: string): void;
  /** True when stderr is a terminal (progress lines may then be redrawn). */
  readonly stderrIsTerminal: boolean;
}
