/**
 * A Lua script run by EVALSHA, falling back to EVAL when Redis lost its script cache (a restart,
 * SCRIPT FLUSH, a replica promoted). On a Cluster it runs as `#!lua` with no flags: Redis ≥ 7 then
 * refuses any key or shard channel the script touches outside the slot of its declared keys
 * ("…do not hash to the same slot"), so a script that strayed from its channel fails instead of
 * silently reaching another slot's data on the same node.
 */
import type { RedisClient } from './connect.ts';
import { describe, isCluster } from './connect.ts';

interface Variant {
  readonly source: string;
  readonly sha: Promise<string>;
}

export class LuaScript {
  readonly #single: Variant;
  readonly #cluster: Variant;

  /** `cluster` is the body for a Cluster when it differs (e.g. SPUBLISH for PUBLISH); the shebang is added here. */
  constructor(single: string, cluster: string = single) {
    this.#single = variant(single);
    this.#cluster = variant(`#!lua\n${cluster}`);
  }

  /** NOSCRIPT means the script did not run, so running it again with EVAL cannot run it twice. */
  async run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const { source, sha } = isCluster(client) ? this.#cluster : this.#single;
    try {
      return await client.evalsha(await sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!describe(error).includes('NOSCRIPT')) throw error;
      return await client.eval(source, keys.length, ...keys, ...args);
    }
  }
}

function variant(source: string): Variant {
  return { source, sha: sha1Hex(source) };
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
