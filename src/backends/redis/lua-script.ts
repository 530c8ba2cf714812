/** A Lua script run by EVALSHA, falling back to EVAL when Redis lost its script cache (a restart, SCRIPT FLUSH). */
import type { Redis } from './connect.ts';
import { describe } from './connect.ts';

export class LuaScript {
  readonly #source: string;
  readonly #sha: Promise<string>;

  constructor(source: string) {
    this.#source = source;
    this.#sha = sha1Hex(source);
  }

  /** NOSCRIPT means the script did not run, so running it again with EVAL cannot run it twice. */
  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(await this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!describe(error).includes('NOSCRIPT')) throw error;
      return await client.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
