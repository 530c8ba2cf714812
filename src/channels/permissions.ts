/**
 * Channel permissions come from the claims the auth service returned, e.g.
 * `{"subscribe":["chat:*","user:{sub}"],"publish":["chat:*"]}`. `{sub}` is the user's own id;
 * `*` matches any run of characters. No claim, no permission.
 */
import type { Identity } from '../auth/verifier.ts';

export type ChannelAction = 'subscribe' | 'publish';

const MAX_PATTERNS = 64;

export function isAllowed(identity: Identity, action: ChannelAction, channel: string): boolean {
  const patterns = identity.claims[action];
  if (!Array.isArray(patterns)) return false;
  return patterns
    .slice(0, MAX_PATTERNS)
    .some((pattern) => typeof pattern === 'string' && matches(pattern.replaceAll('{sub}', identity.sub), channel));
}

/** Glob match with `*` only, iterative (no regex built from claims, no backtracking blow-up). */
export function matches(pattern: string, channel: string): boolean {
  let p = 0;
  let c = 0;
  let star = -1;
  let mark = 0;
  while (c < channel.length) {
    if (p < pattern.length && pattern[p] === channel[c]) {
      p++;
      c++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = c;
    } else if (star !== -1) {
      p = star + 1;
      c = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
