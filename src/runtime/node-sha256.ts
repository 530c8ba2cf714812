/** Node's native SHA-256 for the embedded auth service (Platform.sha256). */
import { createHash, hash } from 'node:crypto';

/**
 * `crypto.hash` (Node ≥ 20.12, one-shot: no Hash object) where it exists, else `createHash`;
 * both faster than @noble/hashes on a 43-character session token (0.55 and 0.97 µs against 1.18 µs).
 */
export const nodeSha256: (data: Uint8Array | string) => Uint8Array =
  typeof hash === 'function' ? (data) => hash('sha256', data, 'buffer') : (data) => createHash('sha256').update(data).digest();
