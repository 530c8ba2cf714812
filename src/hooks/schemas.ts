/**
 * The backend hooks' contract as zod schemas: what the server POSTs to the application's backend
 * and what it must answer. Answers are validated with them (anything else is a failure of the
 * backend, never an allow); the OpenAPI document lists them as webhooks.
 */
import { z } from 'zod';

const MAX_INFO_BYTES = 1024;

const identity = {
  connectionId: z.string().meta({ description: 'The socket (the server API can disconnect it by this id)' }),
  sub: z.string().meta({ description: 'The authenticated user' }),
  claims: z.record(z.string(), z.unknown()).meta({ description: 'The claims the auth service returned for this socket' }),
};

const reason = z
  .string()
  .regex(/^[a-z0-9_]{1,64}$/, 'a code: 1–64 of a–z 0–9 _')
  .meta({ description: "The application's own code, passed on to the client as `reason`" });
const message = z.string().max(256).optional().meta({ description: 'Words for the client, passed on as `message`' });

export const RpcHookRequest = z
  .object({
    type: z.literal('rpc'),
    ...identity,
    method: z.string(),
    data: z.unknown().meta({ description: "The client's data (null when it sent none)" }),
  })
  .strict();

export const RpcHookAnswer = z
  .union([
    z
      .object({ data: z.unknown().refine((value) => value !== undefined, 'required') })
      .strict()
      .meta({ description: 'The client gets {"type":"rpc","id","data"}' }),
    z
      .object({ error: z.object({ code: reason, message }).strict() })
      .strict()
      .meta({ description: 'The client gets {"type":"error","id","code":"rpc_error","reason","message"}' }),
  ])
  .meta({ description: 'Status 200 with one of these; any other status, body or a timeout: the client gets backend_unavailable' });

export const SubscribeHookRequest = z.object({ type: z.literal('subscribe'), ...identity, channel: z.string() }).strict();
export const PublishHookRequest = z.object({ type: z.literal('publish'), ...identity, channel: z.string(), data: z.unknown() }).strict();

const info = z
  .record(z.string(), z.unknown())
  .refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= MAX_INFO_BYTES, `at most ${MAX_INFO_BYTES} bytes encoded`)
  .meta({ description: "This connection's public info in the channel (presence), at most 1 KiB encoded (subscribe only)" });

export const ChannelHookAnswer = z
  .union([
    z.object({ allow: z.literal(true), info: info.optional() }).strict(),
    z
      .object({ allow: z.literal(false), reason, message })
      .strict()
      .meta({ description: 'The client gets {"type":"error","id","code":"forbidden","reason","message"}' }),
  ])
  .meta({ description: 'Status 200 with one of these; anything else, or no answer in time, refuses with backend_unavailable' });

/** For the OpenAPI document (src/api/openapi.ts). */
export const hookWebhooks = {
  schemas: { RpcHookRequest, RpcHookAnswer, SubscribeHookRequest, PublishHookRequest, ChannelHookAnswer },
  calls: {
    rpc: { summary: 'A client’s {"type":"rpc"} message (--hook-rpc-url)', request: 'RpcHookRequest', answer: 'RpcHookAnswer' },
    subscribe: {
      summary: 'A subscribe in a namespace with "proxy" (--hook-subscribe-url)',
      request: 'SubscribeHookRequest',
      answer: 'ChannelHookAnswer',
    },
    publish: {
      summary: 'A client publish in a namespace with "proxy" (--hook-publish-url)',
      request: 'PublishHookRequest',
      answer: 'ChannelHookAnswer',
    },
  },
} as const;
