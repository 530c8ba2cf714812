/**
 * Verifies tickets against an auth service's `POST /auth/verify` (docs/protocol.md). Fails closed:
 * anything but a well-formed 200 or 401 is `unavailable`. Keep-alive comes from the runtime's fetch.
 */
import type { Identity, Verifier, VerifyOptions, VerifyRequest, VerifyResult } from '../verifier.ts';

export interface HttpVerifierOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer <secret>`; never logged or echoed. */
  readonly secret: string;
  /** Only for calls without a signal (the gateway always passes its deadline). Default 2000. */
  readonly timeoutMs?: number;
  /** Defaults to the global fetch (tests pass their own). */
  readonly fetch?: (request: Request) => Response | Promise<Response>;
}

const REASON = /^[a-z_]{1,64}$/;

export class HttpVerifier implements Verifier {
  readonly #url: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #fetch: (request: Request) => Response | Promise<Response>;

  constructor(options: HttpVerifierOptions) {
    this.#url = options.url;
    this.#authorization = `Bearer ${options.secret}`;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
  }

  async verify(request: VerifyRequest, options: VerifyOptions = {}): Promise<VerifyResult> {
    let response: Response;
    let body: unknown;
    try {
      response = await this.#fetch(
        new Request(this.#url, {
          method: 'POST',
          headers: { authorization: this.#authorization, 'content-type': 'application/json' },
          body: JSON.stringify(request),
          signal: options.signal ?? AbortSignal.timeout(this.#timeoutMs),
        }),
      );
      body = await response.text().then(parseJson);
    } catch (error) {
      const timedOut = error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { kind: 'unavailable', reason: timedOut ? 'timeout' : 'unreachable' };
    }
    if (response.status === 200) {
      const identity = readIdentity(body);
      return identity ? { kind: 'ok', identity } : { kind: 'unavailable', reason: 'bad_response' };
    }
    if (response.status === 401) {
      const reason = (body as { error?: unknown } | undefined)?.error;
      // 401 "unauthorized" means the service refused *our* secret: a misconfiguration, not a bad ticket.
      if (reason === 'unauthorized') return { kind: 'unavailable', reason: 'verifier_unauthorized' };
      return { kind: 'rejected', reason: typeof reason === 'string' && REASON.test(reason) ? reason : 'rejected' };
    }
    return { kind: 'unavailable', reason: `status_${response.status}` };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A verify response body as an Identity (`sub`, `exp`, the rest as claims), or null when malformed.
 * A `sub` starting with `$` is malformed: those are the server's own (the server API publishes as
 * `$api`), and a client that could be one could pass for the application's backend.
 */
export function readIdentity(body: unknown): Identity | null {
  if (typeof body !== 'object' || body === null) return null;
  const { sub, exp, ...claims } = body as Record<string, unknown>;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256 || sub.startsWith('$')) return null;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return null;
  return { sub, exp, claims };
}
