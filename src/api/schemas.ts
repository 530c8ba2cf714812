/**
 * The server API's methods as zod schemas: what each takes and answers. The routes validate with
 * them, the typed client (`hardened-ws/server-api`) takes its types from them, and the OpenAPI
 * document (docs/api.openapi.json, GET /api/openapi.json) is generated from them.
 */
import { z } from 'zod';
import { isValidChannel } from '../channels/names.ts';
import { MAX_PRESENCE_LIST } from '../channels/presence.ts';
import { MAX_READ_LIMIT } from '../channels/stream.ts';

/** The channel rule clients follow (src/channels/names.ts decides; the pattern documents it). */
const channel = z
  .string()
  .regex(/^[A-Za-z0-9_\-:.@]{1,128}$/)
  .refine(isValidChannel, 'not a valid channel name')
  .meta({ description: 'A channel name: 1–128 of A–Z a–z 0–9 _ - : . @', examples: ['chat:lobby'] });

/** A user id as the auth service names it (`sub`). */
const user = z
  .string()
  .min(1)
  .max(256)
  .meta({ description: "A user's id (the `sub` the auth service returned)", examples: ['alice'] });

const data = z
  .unknown()
  .refine((value) => value !== undefined, 'required')
  .meta({ description: 'Any JSON value; encoded, at most --max-message bytes (as a client publication)', examples: [{ text: 'hello' }] });

const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, 'printable ASCII, 1–128 characters')
  .meta({
    description:
      'A retried publish with the same key (per channel) within the dedupe window is stored once; the retry gets the first one’s position',
    examples: ['order-1234-shipped'],
  });

export const Position = z
  .object({
    offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    epoch: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  })
  .strict()
  .meta({ description: "Where a publication is in its channel's stream: offsets of one epoch grow by 1 per publication" });

const position = Position.nullable().meta({ description: 'The stored position, or null where the namespace keeps no history' });

const limit = (max: number, fallback: number) => z.number().int().min(1).max(max).default(fallback);

// --- requests

export const PublishRequest = z.object({ channel, data, idempotencyKey: idempotencyKey.optional() }).strict();
export const BroadcastRequest = z
  .object({
    channels: z.array(channel).min(1).max(1000).meta({ description: 'Distinct channels, 1–1000' }),
    data,
    idempotencyKey: idempotencyKey.optional(),
  })
  .strict();
export const PublishToUserRequest = z.object({ user, data, idempotencyKey: idempotencyKey.optional() }).strict();
export const DisconnectRequest = z
  .object({
    user,
    session: z.string().min(1).max(256).optional().meta({ description: 'Only the sockets of this login session (`sid` claim)' }),
    connection: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .meta({ description: 'Only this socket (its connection id, as the hooks and presence name it)' }),
    reconnect: z.boolean().optional().meta({ description: 'Whether the client should reconnect (with a fresh ticket); default false' }),
    code: z
      .number()
      .int()
      .min(4000)
      .max(4999)
      .optional()
      .meta({ description: 'Close code: 4000–4499 reconnect, 4500–4999 do not; default 4010 or 4510 by `reconnect`' }),
  })
  .strict();
export const PresenceRequest = z.object({ channel, limit: limit(MAX_PRESENCE_LIST, 100) }).strict();
export const PresenceStatsRequest = z.object({ channel }).strict();
export const HistoryRequest = z
  .object({
    channel,
    limit: limit(MAX_READ_LIMIT, 100),
    since: Position.optional().meta({ description: 'Publications after this position (exclusive); the oldest kept when absent' }),
  })
  .strict();
export const ChannelsRequest = z
  .object({
    pattern: z
      .string()
      .regex(/^[A-Za-z0-9_\-:.@*]{1,128}$/)
      .optional()
      .meta({ description: 'Only channels matching this pattern (`*` matches any run of characters)', examples: ['chat:*'] }),
    limit: limit(10_000, 1000).meta({ description: 'At most this many channels from each instance, busiest first' }),
  })
  .strict();
export const InfoRequest = z.object({}).strict();

// --- answers

const ErrorBody = z
  .object({ code: z.string(), message: z.string() })
  .strict()
  .meta({ description: 'A stable code (docs/api.md lists them) and a message for people' });
export const ErrorResponse = z.object({ error: ErrorBody }).strict();

export const PublishResponse = z.object({ position }).strict();
export const BroadcastResponse = z
  .object({
    results: z.array(
      z.union([z.object({ channel: z.string(), position }).strict(), z.object({ channel: z.string(), error: ErrorBody }).strict()]),
    ),
  })
  .strict()
  .meta({ description: 'One result per channel, in the order asked: a position, or the error for that channel' });
export const PublishToUserResponse = z.object({ channel: z.string(), position }).strict();
export const DisconnectResponse = z
  .object({
    closedHere: z.number().int().meta({
      description: 'Sockets closed on the instance that took the call; the others close theirs as the control message reaches them',
    }),
  })
  .strict();
const PresenceEntry = z.object({ sub: z.string(), connectionId: z.string(), info: z.record(z.string(), z.unknown()).optional() }).strict();
export const PresenceResponse = z
  .object({
    entries: z.array(PresenceEntry),
    total: z.number().int().meta({ description: 'Entries in all (more than listed when cut at limit)' }),
  })
  .strict();
export const PresenceStatsResponse = z.object({ connections: z.number().int(), users: z.number().int() }).strict();
const Publication = z.object({ offset: z.number().int().optional(), data: z.unknown(), from: z.string() }).strict();
export const HistoryResponse = z
  .object({
    publications: z.array(Publication),
    position: Position,
    epochMatches: z.boolean().meta({ description: 'false: `since` is from another epoch (the stream was lost); read from the start' }),
    reachesBack: z.boolean().meta({ description: 'Every publication after `since` is still stored' }),
  })
  .strict();
export const ChannelsResponse = z
  .object({
    channels: z.array(z.object({ channel: z.string(), subscribers: z.number().int() }).strict()),
    instances: z.number().int().meta({ description: 'Instances that answered' }),
    missing: z.array(z.string()).meta({ description: 'Instances known to be alive that did not answer in time' }),
    truncated: z.boolean().meta({ description: 'Some instance had more matching channels than `limit`' }),
  })
  .strict();
const Instance = z
  .object({
    id: z.string(),
    version: z.string(),
    runtime: z.string(),
    runtimeVersion: z.string(),
    connections: z.number().int(),
    users: z.number().int(),
    startedAt: z.string().meta({ description: 'ISO 8601' }),
  })
  .strict();
export const InfoResponse = z
  .object({
    version: z.string(),
    connections: z.number().int().meta({ description: 'Open sockets on every instance that answered' }),
    instances: z.array(Instance),
    missing: z.array(z.string()),
  })
  .strict();

/** Every method: its path (`POST /api/<name>`), what it does, and its schemas. */
export const methods = {
  publish: { summary: 'Publish to a channel', request: PublishRequest, response: PublishResponse },
  broadcast: { summary: 'Publish one payload to many channels', request: BroadcastRequest, response: BroadcastResponse },
  publish_to_user: {
    summary: "Publish to one user's personal channel, user:{user}",
    request: PublishToUserRequest,
    response: PublishToUserResponse,
  },
  disconnect: {
    summary: "Close a user's sockets (or one session's, or one socket) on every instance",
    request: DisconnectRequest,
    response: DisconnectResponse,
  },
  presence: { summary: 'Who is subscribed to a channel', request: PresenceRequest, response: PresenceResponse },
  presence_stats: {
    summary: 'How many connections and users are subscribed to a channel',
    request: PresenceStatsRequest,
    response: PresenceStatsResponse,
  },
  history: { summary: "A page of a channel's stored publications", request: HistoryRequest, response: HistoryResponse },
  channels: {
    summary: 'Active channels with their subscriber counts, across instances',
    request: ChannelsRequest,
    response: ChannelsResponse,
  },
  info: { summary: 'Instances, their connections and version', request: InfoRequest, response: InfoResponse },
} as const;

export type MethodName = keyof typeof methods;
export type MethodRequest<M extends MethodName> = z.input<(typeof methods)[M]['request']>;
export type MethodResponse<M extends MethodName> = z.output<(typeof methods)[M]['response']>;
/** A request after validation (defaults filled in). */
export type ParsedRequest<M extends MethodName> = z.output<(typeof methods)[M]['request']>;

export const isMethodName = (name: string): name is MethodName => Object.hasOwn(methods, name);

/** Names for the schemas in the OpenAPI document's components (the shared ones; each method's are named after it). */
export const sharedSchemas = { Position, ErrorResponse } as const;
