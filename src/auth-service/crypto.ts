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

// SHA-256 (FIPS 180-4), synchronous. WebCrypto's digest is asynchronous: on Node every call is a
// job on libuv's threadpool and a promise, which cost more than hashing a 43-byte cookie token
// itself. Web-standard code cannot reach `node:crypto`, so the hash is written out here; it is
// checked against WebCrypto in test/unit/auth-crypto.test.ts. No branch or table index depends on
// the data, so its time depends only on the input's length.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const W = new Int32Array(64);
const H = new Int32Array(8);

/** SHA-256 of `data` (bytes, or a string taken as UTF-8). */
export function sha256(data: Uint8Array | string): Uint8Array {
  const length = data.length;
  // Message, 0x80, zero padding, 64-bit big-endian bit length: a whole number of 64-byte blocks.
  const padded = new Uint8Array((length + 9 + 63) & ~63);
  if (typeof data === 'string') {
    // Tokens and secrets are ASCII: copied as they are, without a TextEncoder allocation.
    for (let i = 0; i < length; i++) {
      const code = data.charCodeAt(i);
      if (code > 0x7f) {
        padded.fill(0);
        return sha256(encoder.encode(data));
      }
      padded[i] = code;
    }
  } else {
    padded.set(data);
  }
  padded[length] = 0x80;
  const bits = padded.length - 8;
  const high = Math.floor(length / 0x20000000);
  const low = (length << 3) >>> 0;
  padded[bits] = high >>> 24; padded[bits + 1] = high >>> 16; padded[bits + 2] = high >>> 8; padded[bits + 3] = high;
  padded[bits + 4] = low >>> 24; padded[bits + 5] = low >>> 16; padded[bits + 6] = low >>> 8; padded[bits + 7] = low;

  H[0] = 0x6a09e667; H[1] = 0xbb67ae85; H[2] = 0x3c6ef372; H[3] = 0xa54ff53a;
  H[4] = 0x510e527f; H[5] = 0x9b05688c; H[6] = 0x1f83d9ab; H[7] = 0x5be0cd19;
  for (let offset = 0; offset < padded.length; offset += 64) block(padded, offset);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const word = H[i] as number;
    out[i * 4] = word >>> 24; out[i * 4 + 1] = word >>> 16; out[i * 4 + 2] = word >>> 8; out[i * 4 + 3] = word;
  }
  // The schedule starts with the message's last block (a password, a cookie token): it must not
  // stay in module state until the next call.
  W.fill(0);
  H.fill(0);
  padded.fill(0);
  return out;
}

/** One 64-byte block of `bytes` at `offset` into the state H. */
function block(bytes: Uint8Array, offset: number): void {
  for (let t = 0, i = offset; t < 16; t++, i += 4) {
    W[t] = ((bytes[i] as number) << 24) | ((bytes[i + 1] as number) << 16) | ((bytes[i + 2] as number) << 8) | (bytes[i + 3] as number);
  }
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15] as number;
    const w2 = W[t - 2] as number;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (W[t - 16] as number) + s0 + (W[t - 7] as number) + s1;
  }
  let a = H[0] as number, b = H[1] as number, c = H[2] as number, d = H[3] as number;
  let e = H[4] as number, f = H[5] as number, g = H[6] as number, h = H[7] as number;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + (K[t] as number) + (W[t] as number)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + S0 + maj) | 0;
  }
  H[0] = (H[0] as number) + a; H[1] = (H[1] as number) + b; H[2] = (H[2] as number) + c; H[3] = (H[3] as number) + d;
  H[4] = (H[4] as number) + e; H[5] = (H[5] as number) + f; H[6] = (H[6] as number) + g; H[7] = (H[7] as number) + h;
}

/**
 * Constant-time string equality. Both sides are hashed first, so the XOR loop always runs over
 * 32 bytes: the time depends neither on where the inputs differ nor on their lengths (the hash's
 * own time grows with the length of its input, in 64-byte steps, and never with its content).
 */
export function safeEqualSync(a: string, b: string): boolean {
  const x = sha256(a);
  const y = sha256(b);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}

/** {@link safeEqualSync} behind the promise its callers (admin and metrics tokens, passwords) await. */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  return safeEqualSync(a, b);
}
