/**
 * The server API over HTTP: `POST /api/<method>` with a JSON body and `Authorization: Bearer <key>`,
 * and `GET /api/openapi.json`. In order: the key (401, compared in constant time, before anything
 * else is looked at), the method (404), the content type (415), the body's size (413, before it is
 * read), JSON (400), the method's schema (400), then the method. Every call is audit-logged
 * (`api.call`, `api.denied`) with its method, status and target, never the key or the body.
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bearerGuard } from '../auth/bearer-guard.ts';
import { isJsonContentType, limitBody } from '../core/json-body.ts';
import type { Logger } from '../logging/logger.ts';
import { ApiError, apiError, type ApiErrorCode } from './errors.ts';
import type { MethodHandlers } from './methods.ts';
import { isMethodName, methods, type MethodName } from './schemas.ts';

export interface ApiRouteOptions {
  /** Any of them is accepted (rotation). */
  readonly keys: readonly string[];
  readonly maxBodyBytes: number;
  readonly handlers: MethodHandlers;
  readonly logger: Logger;
  readonly clientIp: (c: Context) => string | null;
  /** Served at GET /api/openapi.json. */
  readonly openApi: Record<string, unknown>;
  /** Every request under /api/ once answered, refused ones included: for metrics. */
  readonly onAnswered?: (method: string, status: number, seconds: number) => void;
}

/** What the audit line says about a call besides its status. */
interface Audit {
  method?: string;
  target?: string;
  count?: number;
  code?: ApiErrorCode;
}

type Env = { Variables: { apiAudit: Audit; requestId?: string } };

export const OPENAPI_PATH = '/api/openapi.json';
/** A method name as logged: only what could be a method (the path is the caller's). */
const LOGGABLE = /^[a-z_]{1,32}$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

export function apiRoutes(options: ApiRouteOptions): Hono<Env> {
  const { logger } = options;
  const app = new Hono<Env>();
  const audit = (c: Context<Env>) => {
    let entry = c.get('apiAudit');
    if (entry === undefined) c.set('apiAudit', (entry = {}));
    return entry;
  };
  const fail = (c: Context<Env>, code: ApiErrorCode, message?: string, headers?: Record<string, string>) => {
    audit(c).code = code;
    return apiError(c, code, message, headers);
  };

  app.get(OPENAPI_PATH, (c) => c.json(options.openApi, 200, { 'cache-control': 'no-cache' }));

  // The audit line, for every call including refused ones (after the response is known).
  app.use('/api/*', async (c, next) => {
    const started = performance.now();
    const name = c.req.path.slice('/api/'.length);
    audit(c).method = LOGGABLE.test(name) ? name : '?';
    await next();
    const entry = audit(c);
    const fields = {
      method: entry.method,
      status: c.res.status,
      ...(entry.code === undefined ? {} : { code: entry.code }),
      ...(entry.target === undefined ? {} : { target: entry.target }),
      ...(entry.count === undefined ? {} : { count: entry.count }),
      ip: options.clientIp(c),
      reqId: c.get('requestId'),
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    options.onAnswered?.(name, c.res.status, (performance.now() - started) / 1000);
    if (c.res.status === 401) logger.warn(fields, 'api.denied');
    else if (c.res.status >= 500) logger.error(fields, 'api.call');
    else logger.info(fields, 'api.call');
  });
  app.use(
    '/api/*',
    bearerGuard(options.keys, (c) => void (audit(c as Context<Env>).code = 'unauthorized'), errorBody('unauthorized')),
  );

  app.post('/api/:method', async (c) => {
    const name = c.req.param('method');
    if (!isMethodName(name))
      return fail(c, 'unknown_method', `no method ${LOGGABLE.test(name) ? name : 'by that name'}; see ${OPENAPI_PATH}`);
    if (!isJsonContentType(c.req.header('content-type'))) return fail(c, 'unsupported_media_type');
    let answer: Response | undefined;
    const refused = await limitBody(options.maxBodyBytes, (cc) => fail(cc as Context<Env>, 'body_too_large'))(c, async () => {
      answer = await call(c, name);
    });
    return refused ?? answer ?? fail(c, 'internal');
  });
  app.all('/api/:method', (c) =>
    isMethodName(c.req.param('method')) ? fail(c, 'method_not_allowed', undefined, { allow: 'POST' }) : fail(c, 'unknown_method'),
  );
  app.all('/api/*', (c) => fail(c, 'unknown_method'));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse(); // the key check's 401
    logger.error({ err: error.name, method: audit(c).method }, 'api.error');
    return fail(c, 'internal');
  });

  /** Reads, validates and runs one method call. */
  async function call(c: Context<Env>, name: MethodName): Promise<Response> {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > options.maxBodyBytes) return fail(c, 'body_too_large'); // a length that lied
    let body: unknown;
    try {
      body = JSON.parse(decoder.decode(bytes));
    } catch {
      return fail(c, 'invalid_json');
    }
    const parsed = methods[name].request.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      const code = field === 'channel' || field === 'channels' ? 'invalid_channel' : field === 'user' ? 'invalid_user' : 'invalid_request';
      return fail(c, code, `${where}${issue?.message ?? 'invalid'}`.slice(0, 200));
    }
    describeTarget(audit(c), parsed.data as Record<string, unknown>);
    try {
      const run = options.handlers[name] as (request: unknown) => Promise<unknown>;
      return c.json((await run(parsed.data)) as object, 200);
    } catch (error) {
      if (error instanceof ApiError) return fail(c, error.code, error.message);
      throw error;
    }
  }

  return app;
}

const errorBody = (code: ApiErrorCode) => ({ error: { code, message: 'a valid API key is required (Authorization: Bearer <key>)' } });

/** The channel or user a call is about (never its data), for the audit line. */
function describeTarget(entry: Audit, request: Record<string, unknown>): void {
  if (typeof request.channel === 'string') entry.target = request.channel;
  else if (typeof request.user === 'string') entry.target = request.user.slice(0, 256);
  else if (Array.isArray(request.channels)) entry.count = request.channels.length;
}
