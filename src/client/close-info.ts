/**
 * What a close code means to a person and what the client does about it. Names and retry classes
 * come from src/protocol/close-codes.ts (the server's table, bundled into the SDK) so the two cannot
 * drift; only the plain-language meanings live here.
 */
import { CloseCodes, retryClassOf, type RetryClass } from '../protocol/close-codes.ts';
import { parseCloseReason } from '../protocol/close-reason.ts';
import type { CloseDetails } from './types.ts';

const MEANINGS: Readonly<Record<number, string>> = {
  1000: 'The connection was closed on purpose.',
  1001: 'The server is shutting down or restarting.',
  1002: 'A WebSocket framing rule was broken.',
  1005: 'The close frame carried no code.',
  1006: 'The connection dropped without a close frame (network, proxy, or the upgrade was refused).',
  1007: 'A text frame was not valid UTF-8.',
  1008: 'The first frame was not a valid auth message, or too many messages were waiting.',
  1009: 'A message was over the size limit.',
  1011: 'The server hit an unexpected error.',
  1013: 'The ticket could not be checked right now; try again later.',
  4401: 'The ticket was invalid, expired, already used or issued for another origin.',
  4408: 'No auth message arrived in time after the socket opened.',
  4409: 'The login session was ended (logged out). Log in again to reconnect.',
  4410: 'The login session reached its end (its idle timeout or maximum age). Log in again to reconnect.',
  4413: 'The client read too slowly and too much was waiting to be sent to it.',
  4429: 'The client sent messages faster than allowed.',
  4430: 'This user already has the maximum number of open connections.',
  4503: 'An administrator closed the session. Do not reconnect automatically.',
};

const EXTRA_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal closure',
  1005: 'no status code',
  1006: 'connection lost',
};

const NAMES: ReadonlyMap<number, string> = new Map([
  ...Object.entries(EXTRA_NAMES).map(([code, name]) => [Number(code), name] as const),
  ...Object.values(CloseCodes).map((info) => [info.code, info.reason] as const),
]);

export interface CloseCodeDescription {
  readonly code: number;
  readonly name: string;
  readonly meaning: string;
  readonly retry: RetryClass;
}

/** Name, meaning and retry class of any close code (unknown ones get the range's generic text). */
export function describeCloseCode(code: number): CloseCodeDescription {
  const retry = retryClassOf(code);
  const name =
    NAMES.get(code) ??
    (code >= 4500 && code <= 4999 ? 'application close (final)' : code >= 4000 && code <= 4999 ? 'application close' : 'unknown code');
  const meaning =
    MEANINGS[code] ??
    (retry === 'do-not-retry'
      ? 'The server ended the session for good.'
      : retry === 'reconnect'
        ? 'The server ended the session; a new ticket may succeed.'
        : 'The connection ended; it may work again shortly.');
  return { code, name, meaning, retry };
}

/** Every code the SDK knows, for tables in UIs and docs. */
export function knownCloseCodes(): CloseCodeDescription[] {
  return [...NAMES.keys()].sort((a, b) => a - b).map(describeCloseCode);
}

export function closeDetails(code: number, rawReason: string, byClient: boolean): CloseDetails {
  const { reason, retryAfterMs } = parseCloseReason(rawReason);
  const { meaning, retry } = describeCloseCode(code);
  return retryAfterMs === undefined ? { code, reason, meaning, retry, byClient } : { code, reason, meaning, retry, retryAfterMs, byClient };
}
