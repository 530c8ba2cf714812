/**
 * Positions, history pages and presence as the server sends them, read defensively: a field that
 * does not have the documented shape is treated as absent (a position) or fails the request with
 * `invalid_reply` (a history or presence answer), never passed on half-checked.
 */
import { ClientError } from './errors.ts';
import type {
  HistoryOptions,
  HistoryPage,
  HistoryPublication,
  PresenceClient,
  PresenceResult,
  PresenceStats,
  StreamPosition,
} from './subscription-types.ts';
import type { Reply } from './types.ts';

/** The protocol's bounds: an epoch is at most 64 characters, a page at most 1000 publications. */
const MAX_EPOCH = 64;
export const MAX_HISTORY_LIMIT = 1000;

export function isOffset(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

export function isEpoch(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_EPOCH;
}

/** The `offset`/`epoch` pair of a frame (a `message`, an `ok`, a history reply), or null. */
export function positionOf(frame: Readonly<Record<string, unknown>>): StreamPosition | null {
  return isOffset(frame.offset) && isEpoch(frame.epoch) ? { offset: frame.offset, epoch: frame.epoch } : null;
}

/** A position the app passed in (`since`), checked before it goes on the wire. */
export function checkedPosition(value: unknown, name: string): StreamPosition {
  const position = typeof value === 'object' && value !== null ? positionOf(value as Record<string, unknown>) : null;
  if (position === null) {
    throw new ClientError('invalid_message', `${name} must be {offset, epoch}: a whole number ≥ 0 and a string of 1–64 characters`);
  }
  return position;
}

/** The fields of a `history` request, checked. */
export function historyRequest(
  channel: string,
  options: HistoryOptions,
): { type: 'history'; channel: string; since?: StreamPosition; limit?: number } {
  const { since, limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_HISTORY_LIMIT)) {
    throw new ClientError('invalid_message', `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`);
  }
  return {
    type: 'history',
    channel,
    ...(since !== undefined ? { since: checkedPosition(since, 'since') } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
}

export function historyPageOf(channel: string, reply: Reply): HistoryPage {
  const position = positionOf(reply);
  const list = reply.publications;
  if (reply.type !== 'history' || position === null || !Array.isArray(list) || typeof reply.complete !== 'boolean')
    throw invalidReply('history');
  const publications: HistoryPublication[] = [];
  for (const item of list as unknown[]) {
    const entry = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
    if (!isOffset(entry.offset) || entry.offset < 1) throw invalidReply('history');
    publications.push({ data: entry.data, from: String(entry.from ?? ''), offset: entry.offset, epoch: position.epoch });
  }
  return { channel, publications, position, complete: reply.complete };
}

export function presenceOf(channel: string, reply: Reply): PresenceResult {
  const list = reply.clients;
  if (reply.type !== 'presence' || !Array.isArray(list) || !isCount(reply.total)) throw invalidReply('presence');
  const clients: PresenceClient[] = [];
  for (const item of list as unknown[]) {
    const entry = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
    if (typeof entry.sub !== 'string' || typeof entry.conn !== 'string') throw invalidReply('presence');
    const info = entry.info;
    const hasInfo = typeof info === 'object' && info !== null && !Array.isArray(info);
    clients.push({ sub: entry.sub, conn: entry.conn, ...(hasInfo ? { info: info as Record<string, unknown> } : {}) });
  }
  return { channel, clients, total: reply.total };
}

export function presenceStatsOf(channel: string, reply: Reply): PresenceStats {
  if (reply.type !== 'presence_stats' || !isCount(reply.connections) || !isCount(reply.users)) throw invalidReply('presence_stats');
  return { channel, connections: reply.connections, users: reply.users };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function invalidReply(what: string): ClientError {
  return new ClientError('invalid_reply', `the server's ${what} reply does not have the documented shape`);
}
