/**
 * The few Bun globals that src/runtime/bun.ts and bun-embedded.ts use, declared by hand because
 * `bun-types` is not a dependency. Only `npm run typecheck:runtimes` loads this file; keep it to
 * exactly what those files call, with the signatures of Bun 1.4.
 */
declare namespace Bun {
  interface BunFile {
    exists(): Promise<boolean>;
    text(): Promise<string>;
    arrayBuffer(): Promise<ArrayBuffer>;
  }
  interface ServeOptions {
    fetch(request: Request, server: Server): Response | Promise<Response>;
    port?: number;
    hostname?: string;
    /** HTTP idle timeout in seconds (default 10); the WebSocket one is `websocket.idleTimeout`. */
    idleTimeout?: number;
    // Hono's handler object plus Bun's server-wide options.
    websocket?: object & {
      open?(ws: never): void;
      message?(ws: never, message: string | Uint8Array): void;
      ping?(ws: never): void;
      pong?(ws: never): void;
      close?(ws: never, code: number, reason: string): void;
      maxPayloadLength?: number;
      idleTimeout?: number;
      sendPings?: boolean;
      backpressureLimit?: number;
    };
    tls?: { cert: string; key: string; ciphers?: string };
  }
  interface SocketAddress {
    readonly address: string;
    readonly family: 'IPv4' | 'IPv6';
    readonly port: number;
  }
  interface Server {
    readonly port: number;
    /** The peer of the connection `request` arrived on; null for a Request Bun did not create. */
    requestIP(request: Request): SocketAddress | null;
    /** Upgrades `request` to a WebSocket whose `ws.data` is `options.data`; false when it is no upgrade. */
    upgrade(request: Request, options?: { data?: unknown }): boolean;
    /** Sends to every socket subscribed to `topic`: bytes sent, -1 queued by one, 0 dropped by one or nobody subscribed. */
    publish(topic: string, data: string): number;
    stop(closeActiveConnections?: boolean): Promise<void>;
  }
  /** One-shot SHA-256 (a string is hashed as UTF-8). */
  const SHA256: { hash(data: string | Uint8Array): Uint8Array };
  const version: string;
  const argv: string[];
  function file(path: string | URL): BunFile;
  function serve(options: ServeOptions): Server;
}

/** `import path from './x.html' with { type: 'file' }`: the file's path (embedded in a compiled binary). */
declare module '*.html' {
  const path: string;
  export default path;
}
declare module '*.js' {
  const path: string;
  export default path;
}
declare module '*.css' {
  const path: string;
  export default path;
}
declare module '*.svg' {
  const path: string;
  export default path;
}
