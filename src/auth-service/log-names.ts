/**
 * How a typed username appears in the log. A known user is logged by name; anything else may be a
 * password typed into the wrong field, so it appears only as a short keyed hash: equal inputs
 * still correlate within one process, but the key is random per process and never leaves it, so
 * the log cannot be brute-forced offline back to what was typed.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

export type LoggedUsername = { readonly username: string } | { readonly usernameHash: string };

/** 6 bytes (12 hex characters): enough to tell attempts apart, too short to be worth anything alone. */
const HASH_BYTES = 6;

export function usernameForLog(users: ReadonlyMap<string, string>): (typed: string) => LoggedUsername {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const encoder = new TextEncoder();
  return (typed) => {
    if (users.has(typed)) return { username: typed };
    const mac = hmac(sha256, key, encoder.encode(typed)).subarray(0, HASH_BYTES);
    let hex = '';
    for (const byte of mac) hex += byte.toString(16).padStart(2, '0');
    return { usernameHash: hex };
  };
}
