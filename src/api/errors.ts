/**
 * The server API's error codes: each with its HTTP status and meaning (docs/api.md and the OpenAPI
 * document are generated from this table). Every error answer is `{"error":{"code","message"}}`;
 * the message is for people, the code for programs, and neither ever quotes a key or a body.
 */
import type { Context } from 'hono';

export const apiErrors = {
  invalid_json: { status: 400, meaning: 'The body is not JSON (or not UTF-8).' },
  invalid_request: { status: 400, meaning: 'The body is JSON but not what the method takes; the message names the first field at fault.' },
  invalid_channel: { status: 400, meaning: 'A channel name breaks the rules clients follow (1–128 of A–Z a–z 0–9 _ - : . @).' },
  invalid_user: { status: 400, meaning: 'A user id is empty, too long (256) or makes no valid channel name.' },
  data_too_large: {
    status: 400,
    meaning: "The publication's data, encoded as JSON, is larger than a client message may be (--max-message).",
  },
  invalid_data: { status: 400, meaning: 'The data cannot be stored as JSON.' },
  history_disabled: { status: 400, meaning: "The channel's namespace keeps no history." },
  presence_disabled: { status: 400, meaning: "The channel's namespace has no presence." },
  unauthorized: {
    status: 401,
    meaning: 'No API key, a malformed Authorization header, or a key that is not one of --api-key (compared in constant time).',
  },
  unknown_method: { status: 404, meaning: 'No such method (POST /api/<method>).' },
  method_not_allowed: { status: 405, meaning: 'Methods are called with POST.' },
  body_too_large: { status: 413, meaning: 'The request body is larger than --api-max-body.' },
  unsupported_media_type: { status: 415, meaning: 'The body must be sent as application/json.' },
  unavailable: { status: 503, meaning: 'Shared state (Redis) cannot be reached: nothing was published or changed. Retry later.' },
  internal: { status: 500, meaning: 'An unexpected failure; the server log has the details.' },
} as const satisfies Record<string, { readonly status: number; readonly meaning: string }>;

export type ApiErrorCode = keyof typeof apiErrors;

/** The error answer for `code`; `message` defaults to the code's meaning. */
export function apiError(
  c: Context,
  code: ApiErrorCode,
  message: string = apiErrors[code].meaning,
  headers?: Record<string, string>,
): Response {
  return c.json({ error: { code, message } }, apiErrors[code].status, headers);
}

/** Thrown by a method to answer with an error; the routes turn it into the error answer. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string = apiErrors[code].meaning,
  ) {
    super(message);
  }
}
