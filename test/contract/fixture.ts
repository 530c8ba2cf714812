/**
 * What every contract test file shares: one real redis-server for the file, a tripwire that fails
 * a test on any unhandled rejection, fresh key prefixes so tests never see each other's keys, and
 * the two shapes the contracts take (one memory instance twice, or two Redis instances).
 */
import { after, afterEach, before } from 'node:test';
import { startRedis, unhandledRejectionTripwire, waitFor, type RedisServer } from '../support/redis-server.ts';

export interface ContractFixture {
  readonly redis: RedisServer;
  /** A key prefix no other test in this process uses. */
  prefix(): string;
}

export function contractFixture(): ContractFixture {
  const tripwire = unhandledRejectionTripwire();
  afterEach(() => tripwire.assertNone());
  let server: RedisServer | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });
  let n = 0;
  return {
    get redis() {
      if (server === undefined) throw new Error('redis-server is started in before()');
      return server;
    },
    prefix: () => `t${process.pid}-${++n}:`,
  };
}

/** Resolves once a Redis-backed piece reports healthy (its constructor connects in the background). */
export async function whenHealthy<T extends { readonly healthy: boolean }>(value: T, what: string): Promise<T> {
  await waitFor(() => value.healthy, 3000, what);
  return value;
}

interface Closable {
  close(): Promise<void>;
}

/** One in-process instance seen from both sides. */
export const samePair = <T extends Closable>(one: T) => ({ a: one, b: one, close: () => one.close() });

/** Two instances of a Redis-backed piece on one server: what the cross-instance contracts need. */
export async function twoInstances<T extends Closable>(make: () => Promise<T>) {
  const [a, b] = await Promise.all([make(), make()]);
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
}
