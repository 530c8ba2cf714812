/**
 * The audit's host (src/audit/host.ts) on every runtime: raw sockets from node:net and node:tls,
 * `--ticket-cmd` through node:child_process, files and the terminal. Node, Bun and Deno all
 * implement these modules; where their TLS clients differ, `tlsClient` says so.
 */
import { exec } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import process from 'node:process';
import tls from 'node:tls';
import {
  ConnectError,
  type AuditHost,
  type ConnectOptions,
  type RawSocket,
  type SocketEvents,
  type TlsOptions,
  type TlsSession,
} from '../audit/host.ts';

const isBun = typeof process.versions.bun === 'string';
const isDeno = 'Deno' in globalThis;
const runtime = isBun
  ? `bun ${process.versions.bun}`
  : isDeno
    ? `deno ${process.versions.deno ?? ''}`.trim()
    : `node ${process.versions.node}`;

/**
 * Legacy handshakes need OpenSSL's security level 0 (SHA-1 signatures) on Node; BoringSSL (Bun)
 * rejects the `@SECLEVEL` directive and allows TLS 1.0 without it. Deno's rustls has no TLS 1.0/1.1
 * and ignores `ciphers` (measured: it negotiates AEAD suites whatever is asked).
 */
function cipherList(options: TlsOptions): string | undefined {
  if (!options.legacy) return options.ciphers;
  const base = options.ciphers ?? 'DEFAULT';
  return isBun ? base : `${base}:@SECLEVEL=0`;
}

function caList(extra: string | undefined): string[] | undefined {
  if (extra === undefined) return undefined;
  // `ca` replaces the system roots: keep them, so --ca adds trust instead of narrowing it.
  // Deno only lists them with --allow-sys=ca; without it, the given CA alone is trusted.
  let roots: readonly string[] = [];
  try {
    roots = [...tls.rootCertificates]; // copied here: on Deno the list is a lazy proxy that throws on read
  } catch {
    roots = [];
  }
  return [...roots, extra];
}

function sessionOf(socket: tls.TLSSocket): TlsSession {
  const cert = socket.getPeerCertificate();
  const name = (entry: unknown) =>
    entry && typeof entry === 'object'
      ? Object.entries(entry as Record<string, unknown>)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ')
      : '';
  const error = socket.authorizationError as unknown;
  return {
    protocol: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    authorized: socket.authorized,
    authorizationError:
      error === undefined || error === null
        ? null
        : typeof error === 'string'
          ? error
          : ((error as { code?: string }).code ?? String(error)),
    certificate:
      cert && Object.keys(cert).length > 0
        ? { subject: name(cert.subject), issuer: name(cert.issuer), validFrom: cert.valid_from, validTo: cert.valid_to }
        : null,
  };
}

function wrap(socket: net.Socket, session: TlsSession | null): RawSocket {
  return {
    tls: session,
    // Read once, connected: a destroyed socket no longer reports them, while the kernel may still hold the connection.
    localPort: socket.localPort,
    remotePort: socket.remotePort,
    write: (bytes) =>
      new Promise((resolve) => {
        if (socket.destroyed) return resolve(false);
        try {
          socket.write(bytes, (error) => resolve(!error));
        } catch {
          resolve(false);
        }
      }),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}

function connect(options: ConnectOptions, events: SocketEvents): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const t = options.tls;
    const socket: net.Socket = t
      ? tls.connect({
          host: options.host,
          port: options.port,
          servername: net.isIP(t.servername) ? undefined : t.servername,
          ca: caList(t.ca),
          rejectUnauthorized: t.verify,
          minVersion: t.minVersion ?? (t.legacy ? 'TLSv1' : undefined),
          maxVersion: t.maxVersion,
          ciphers: cipherList(t),
          // Hostname checked against the name the user typed, also when it is an IP address.
          checkServerIdentity: (_host, cert) => tls.checkServerIdentity(t.servername, cert),
        })
      : net.connect({ host: options.host, port: options.port });
    let settled = false;
    const timer = setTimeout(() => fail(new ConnectError('ETIMEDOUT', `no connection within ${options.timeoutMs} ms`)), options.timeoutMs);
    function fail(error: ConnectError): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Uint8Array) => events.data(chunk));
    socket.on('end', () => events.end());
    let errorCode: string | null = null;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode ??= error.code ?? error.message;
      fail(new ConnectError(error.code ?? 'ECONNECT', error.message));
    });
    socket.on('close', () => {
      if (settled) events.close(errorCode);
      else fail(new ConnectError('ECONNRESET', 'connection closed during connect'));
    });
    socket.once(t ? 'secureConnect' : 'connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(wrap(socket, t ? sessionOf(socket as tls.TLSSocket) : null));
    });
  });
}

export const auditHost: AuditHost = {
  runtime,
  tlsClient: { legacyVersions: !isDeno, cipherSelection: !isDeno, pauseStopsReading: !isDeno },
  connect,
  runCommand: (command, options) =>
    new Promise((resolve, reject) => {
      exec(
        command,
        { timeout: options.timeoutMs, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024, encoding: 'utf8' },
        (error, stdout) => {
          if (error && (error as { killed?: boolean }).killed) return reject(new Error(`timed out after ${options.timeoutMs} ms`));
          // Not error.message: it quotes the command, which may hold a secret.
          if (error && typeof (error as { code?: unknown }).code !== 'number') return reject(new Error('the command could not be run'));
          resolve({ exitCode: error ? Number((error as { code?: unknown }).code) : 0, stdout });
        },
      );
    }),
  readTextFile: (path) => readFile(path, 'utf8'),
  writeTextFile: (path, text) => writeFile(path, text, 'utf8'),
  writeStdout: (text) => new Promise((resolve) => process.stdout.write(text, () => resolve())),
  writeStderr: (text) => void process.stderr.write(text),
  stderrIsTerminal: process.stderr.isTTY === true,
};
