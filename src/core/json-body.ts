/** JSON request bodies for the HTTP routes (auth service, server API): JSON only, bounded before they are read, validated with zod. */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';

/** `application/json`, parameters (charset…) allowed. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

/** 415 before anything is read when the declared type is not JSON. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  if (!isJsonContentType(c.req.header('content-type'))) {
    return c.json({ error: 'unsupported_media_type' }, 415);
  }
  await next();
};

/** A Content-Length value the runtime's HTTP parser holds the body to (digits only, a safe integer). */
const DECLARED_LENGTH = /^\d{1,15}$/;

/**
 * 413 over `maxBytes`. A declared Content-Length (without a transfer coding) decides alone: the
 * runtime's HTTP parser never hands over more body than it declares, and `readBytes` checks the
 * size again after reading. Only a body without a length goes through hono's bodyLimit, which
 * counts the streamed bytes, so a chunked body is cut off too. Deciding on the header keeps
 * `c.req.raw.body` untouched: on Node that getter makes @hono/node-server build a whole WHATWG
 * Request and a web stream over the socket (about 15 % of a ticket request's CPU), where
 * `c.req.arrayBuffer()` alone reads the socket directly.
 */
export function limitBody(
  maxBytes: number,
  onError: (c: Context) => Response = (c) => c.json({ error: 'payload_too_large' }, 413),
): MiddlewareHandler {
  const streamed = bodyLimit({ maxSize: maxBytes, onError });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined || !DECLARED_LENGTH.test(length)) {
      return streamed(c, next);
    }
    if (Number(length) > maxBytes) return onError(c);
    await next();
  };
}

export type BodyResult<T> = { ok: true; value: T } | { ok: false; response: Response };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads the (already size-limited) body as bytes; re-checks the size in case a length lied. */
async function readBytes(c: Context, maxBytes: number): Promise<BodyResult<Uint8Array>> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > maxBytes) {
    return { ok: false, response: c.json({ error: 'payload_too_large' }, 413) };
  }
  return { ok: true, value: bytes };
}

function parseJson(c: Context, bytes: Uint8Array): BodyResult<unknown> {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return { ok: false, response: c.json({ error: 'invalid_json' }, 400) };
  }
}

/** Parses and validates a required JSON body. Mount after `requireJson` and `limitBody`. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number): Promise<BodyResult<z.output<S>>> {
  const bytes = await readBytes(c, maxBytes);
  if (!bytes.ok) return bytes;
  const json = parseJson(c, bytes.value);
  if (!json.ok) return json;
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return { ok: false, response: c.json({ error: 'invalid_body' }, 400) };
  return { ok: true, value: parsed.data };
}
