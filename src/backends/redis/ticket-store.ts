/**
 * Tickets in Redis, so a ticket issued by one instance can be redeemed on any other, once.
 * `take` is GETDEL: one atomic command, so N instances racing for one ticket get one record.
 * The key is the SHA-256 of the ticket, not the ticket: a Redis dump or MONITOR shows nothing redeemable.
 */
import type { Logger } from '../../logging/logger.ts';
import { silentLogger } from '../../logging/logger.ts';
import type { OwnedClient, RedisSource } from './connect.ts';
import { clientFrom, closeRedis, DEFAULT_PREFIX, isReady, unavailable } from './connect.ts';
import type { TicketRecord, TicketStore } from '../../auth-service/ticket-store.ts';

export type RedisStoreOptions = RedisSource & {
  /** Key prefix. Default `hws:`. */
  readonly prefix?: string;
  readonly logger?: Logger;
  /** Clock for TTLs, injectable for tests. Default Date.now. */
  readonly now?: () => number;
};

export class RedisTicketStore implements TicketStore {
  readonly #redis: OwnedClient;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(options: RedisStoreOptions) {
    this.#log = (options.logger ?? silentLogger).child({ component: 'redis-ticket-store' });
    this.#redis = clientFrom(options, 'hws-tickets', options.logger);
    this.#prefix = `${options.prefix ?? DEFAULT_PREFIX}t:`;
    this.#now = options.now ?? Date.now;
  }

  /** Whether Redis is connected; for readiness. */
  get healthy(): boolean {
    return isReady(this.#redis.client);
  }

  async put(ticket: string, record: TicketRecord): Promise<void> {
    const ttl = Math.ceil(record.exp - this.#now());
    if (ttl <= 0) return; // already dead: storing it would only let Redis hold garbage
    const key = await this.#key(ticket);
    try {
      await this.#redis.client.set(key, JSON.stringify(record), 'PX', ttl);
    } catch (error) {
      throw unavailable('ticket store', error);
    }
  }

  async take(ticket: string): Promise<TicketRecord | null> {
    const key = await this.#key(ticket);
    let raw: string | null;
    try {
      raw = await this.#redis.client.getdel(key);
    } catch (error) {
      throw unavailable('ticket store', error);
    }
    if (raw === null) return null;
    const record = parseTicketRecord(raw);
    // Fail closed on a value this code did not write; never log it (it is a credential's record).
    if (record === null) this.#log.warn({}, 'malformed ticket record dropped');
    return record;
  }

  async close(): Promise<void> {
    if (this.#redis.owned) await closeRedis(this.#redis.client);
  }

  async #key(ticket: string): Promise<string> {
    return this.#prefix + (await sha256Hex(ticket));
  }
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

function parseTicketRecord(raw: string): TicketRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const nullableString = (v: unknown) => v === null || typeof v === 'string';
  const ok =
    typeof r.sub === 'string' &&
    nullableString(r.origin) &&
    nullableString(r.ip) &&
    nullableString(r.sid) &&
    typeof r.exp === 'number' &&
    typeof r.sessionExp === 'number' &&
    (r.claims === undefined || (typeof r.claims === 'object' && r.claims !== null));
  return ok ? (value as TicketRecord) : null;
}
