/**
 * A separate process that holds presence entries on Redis and renews them until it is killed: the
 * "instance" presence.test.ts SIGKILLs to measure how long its entries outlive it.
 * Env: REDIS_URL, PREFIX, LEASE_MS, CHANNEL, COUNT. Prints `joined` once every entry is in.
 */
import { RedisPresence } from '../../src/backends/redis/presence.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const presence = new RedisPresence({ url: env('REDIS_URL'), prefix: env('PREFIX'), leaseMs: Number(env('LEASE_MS')) });
while (!presence.healthy) await new Promise((resolve) => setTimeout(resolve, 10));
for (let i = 0; i < Number(env('COUNT')); i++) {
  await presence.join(env('CHANNEL'), { sub: `holder-${i % 3}`, connectionId: `holder-c${i}` });
}
process.stdout.write('joined\n');
setInterval(() => {}, 60_000); // stay alive, renewing, until killed
