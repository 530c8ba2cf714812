/** The embedded service's primitives: random tokens, base64url, SHA-256 and a constant-time compare. */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

const encoder = new TextEncoder();

const ascii = new TextDecoder();
const BASE64URL = Uint8Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', (ch) => ch.charCodeAt(0));

/**
 * base64url without padding (RFC 4648 §5), the form used for tickets and session tokens. The
 * characters go into a byte array decoded once: building the string a character at a time cost
 * twice as much (and btoa over a binary string, then three replaces, three times as much).
 */
export function toBase64Url(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((bytes.length * 4) / 3));
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[o++] = BASE64URL[n >>> 18] as number;
    out[o++] = BASE64URL[(n >>> 12) & 63] as number;
    out[o++] = BASE64URL[(n >>> 6) & 63] as number;
    out[o++] = BASE64URL[n & 63] as number;
  }
  if (i < bytes.length) {
    const n = ((bytes[i] as number) << 16) | (i + 1 < bytes.length ? (bytes[i + 1] as number) << 8 : 0);
    out[o++] = BASE64URL[n >>> 18] as number;
    out[o++] = BASE64URL[(n >>> 12) & 63] as number;
    if (i + 1 < bytes.length) out[o++] = BASE64URL[(n >>> 6) & 63] as number;
  }
  return ascii.decode(out);
}

/** An unguessable token: 32 random bytes (256 bits), base64url. */
export function randomToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * SHA-256 of `data` (bytes, or a string taken as UTF-8), synchronous: WebCrypto's digest is
 * asynchronous, and on Node every call is a job on libuv's threadpool plus a promise, which cost
 * more than hashing a 43-byte cookie token itself. @noble/hashes (audited, no dependencies) runs
 * the same on every runtime; test/unit/auth-crypto.test.ts checks it against WebCrypto.
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  return nobleSha256(typeof data === 'string' ? encoder.encode(data) : data);
}

/**
 * A synchronous SHA-256 (a string taken as UTF-8): the port through which a runtime hands the auth
 * service its native hash (`Platform.sha256`, src/runtime/), about 2× (Node) to 9× (Bun) faster than
 * `sha256` above on a session token. Without one, `sha256` above (library users, tests).
 */
export type Sha256 = (data: Uint8Array | string) => Uint8Array;

/**
 * Constant-time string equality. Both sides are hashed first, so the XOR loop always runs over
 * 32 bytes: the time depends neither on where the inputs differ nor on their lengths (the hash's
 * own time grows with the length of its input, in 64-byte steps, and never with its content).
 */
export function safeEqual(a: string, b: string): boolean {
  const x = sha256(a);
  const y = sha256(b);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}
