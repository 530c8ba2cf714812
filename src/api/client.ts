/**
 * The typed server-API client (`hardened-ws/server-api`) for an application's backend on Node, Bun,
 * Deno or any runtime with fetch: one method per API method, typed from the same schemas the server
 * validates with. A refusal is a ServerApiError with the server's code; nothing is retried by
 * itself (a publish with an idempotencyKey is safe to retry: it is stored once).
 */
import type { MethodName, MethodRequest, MethodResponse } from './schemas.ts';

export type { MethodName, MethodRequest, MethodResponse } from './schemas.ts';

export interface ServerApiOptions {
  /** Where the API is: the server's origin (`http://127.0.0.1:8080`), or the --api-port listener's. Methods are under `/api/`. */
  readonly url: string;
  /** One of the server's --api-key values. */
  readonly key: string;
  /** Per call; default 10 s. */
  readonly timeoutMs?: number;
  /** Defaults to the global fetch. */
  readonly fetch?: (request: Request) => Promise<Response>;
}

/** The server's `{error:{code,message}}`, or `unreachable` / `timeout` / `bad_response` (status 0 or the HTTP status) when there was none. */
export class ServerApiError extends Error {
  override readonly name = 'ServerApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Options<M extends MethodName, Required extends keyof MethodRequest<M>> = Omit<MethodRequest<M>, Required>;

export interface ServerApi {
  /** Any method by name, as the OpenAPI document describes it. */
  call<M extends MethodName>(method: M, request: MethodRequest<M>): Promise<MethodResponse<M>>;
  publish(channel: string, data: unknown, options?: Options<'publish', 'channel' | 'data'>): Promise<MethodResponse<'publish'>>;
  broadcast(
    channels: readonly string[],
    data: unknown,
    options?: Options<'broadcast', 'channels' | 'data'>,
  ): Promise<MethodResponse<'broadcast'>>;
  /** To `user:{user}`, the user's personal channel. */
  publishToUser(
    user: string,
    data: unknown,
    options?: Options<'publish_to_user', 'user' | 'data'>,
  ): Promise<MethodResponse<'publish_to_user'>>;
  disconnect(user: string, options?: Options<'disconnect', 'user'>): Promise<MethodResponse<'disconnect'>>;
  presence(channel: string, options?: Options<'presence', 'channel'>): Promise<MethodResponse<'presence'>>;
  presenceStats(channel: string): Promise<MethodResponse<'presence_stats'>>;
  history(channel: string, options?: Options<'history', 'channel'>): Promise<MethodResponse<'history'>>;
  channels(options?: MethodRequest<'channels'>): Promise<MethodResponse<'channels'>>;
  info(): Promise<MethodResponse<'info'>>;
}

export function createServerApi(options: ServerApiOptions): ServerApi {
  const base = options.url.replace(/\/+$/, '');
  const authorization = `Bearer ${options.key}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? ((request: Request) => fetch(request));

  async function call<M extends MethodName>(method: M, request: MethodRequest<M>): Promise<MethodResponse<M>> {
    let response: Response;
    try {
      response = await doFetch(
        new Request(`${base}/api/${method}`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify(request),
          signal: AbortSignal.timeout(timeoutMs),
        }),
      );
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new ServerApiError(
        0,
        timedOut ? 'timeout' : 'unreachable',
        timedOut ? `no answer within ${timeoutMs} ms` : `cannot reach ${base}: ${describe(error)}`,
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new ServerApiError(response.status, 'bad_response', `${response.status} without a JSON body`);
    }
    if (response.ok) return body as MethodResponse<M>;
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : 'bad_response';
    throw new ServerApiError(response.status, code, typeof error?.message === 'string' ? error.message : `${response.status}`);
  }

  return {
    call,
    publish: (channel, data, more) => call('publish', { ...more, channel, data }),
    broadcast: (channels, data, more) => call('broadcast', { ...more, channels: [...channels], data }),
    publishToUser: (user, data, more) => call('publish_to_user', { ...more, user, data }),
    disconnect: (user, more) => call('disconnect', { ...more, user }),
    presence: (channel, more) => call('presence', { ...more, channel }),
    presenceStats: (channel) => call('presence_stats', { channel }),
    history: (channel, more) => call('history', { ...more, channel }),
    channels: (request = {}) => call('channels', request),
    info: () => call('info', {}),
  };
}

/** One short line from a fetch error (Node keeps the useful part in `cause`). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 200);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return `${typeof code === 'string' ? `${code} ` : ''}${cause?.message ?? error.message}`.replace(/\s+/g, ' ').trim().slice(0, 200);
}
