/** The embedded service's users: parsing `--demo-users` and checking a password in constant time. */
import { safeEqual } from './crypto.ts';

/** Longest username or password accepted anywhere (JSON body or Basic auth). */
export const MAX_CREDENTIAL_LENGTH = 256;

/**
 * Parses `user:pass,user2:pass2`. The password is everything after the first colon, so it may
 * contain colons. Errors name the entry position, never its content (it may hold a password).
 */
export function parseDemoUsers(spec: string): Map<string, string> {
  const users = new Map<string, string>();
  const entries = spec.split(',');
  entries.forEach((entry, index) => {
    const where = `demo users: entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`${where} is not in user:password form`);
    const user = entry.slice(0, colon).trim();
    const pass = entry.slice(colon + 1);
    if (user.length === 0) throw new Error(`${where} has an empty username`);
    // `$…` names are the server's own (the server API publishes as `$api`): the verifier refuses them.
    if (user.startsWith('$')) throw new Error(`${where}: a username may not start with $ (reserved for the server)`);
    if (pass.length === 0) throw new Error(`${where} has an empty password`);
    if (user.length > MAX_CREDENTIAL_LENGTH || pass.length > MAX_CREDENTIAL_LENGTH) {
      throw new Error(`${where} is longer than ${MAX_CREDENTIAL_LENGTH} characters`);
    }
    if (users.has(user)) throw new Error(`${where} repeats an earlier username`);
    users.set(user, pass);
  });
  return users;
}

/** Compared against when the user is unknown, so an unknown user costs the same as a wrong password. */
const DUMMY_PASSWORD = 'hws-dummy-password-never-matches';

/** True when the password is right. Always performs exactly one digest comparison. */
export async function checkPassword(users: ReadonlyMap<string, string>, username: string, password: string): Promise<boolean> {
  const expected = users.get(username);
  const match = safeEqual(password, expected ?? DUMMY_PASSWORD);
  return match && expected !== undefined;
}

/** Splits `Authorization: Basic base64(user:pass)`; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { username: string; password: string } | null {
  if (header === undefined) return null;
  const match = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  const encoded = match?.[1];
  if (encoded === undefined) return null;
  let decoded: string;
  try {
    const binary = atob(encoded);
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (username.length === 0 || username.length > MAX_CREDENTIAL_LENGTH) return null;
  if (password.length > MAX_CREDENTIAL_LENGTH) return null;
  return { username, password };
}
