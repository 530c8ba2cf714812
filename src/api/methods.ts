/**
 * What each server API method does, on validated requests: publishes go through the ChannelService
 * (the path client publishes take: stored first where the namespace keeps history, idempotency
 * keys), disconnects through the revocation bus, channels and info through the cluster view.
 * A failure is an ApiError with a documented code; nothing here reads HTTP.
 */
import type { ChannelService } from '../channels/channel-service.ts';
import { isValidChannel } from '../channels/names.ts';
import { StorageError } from '../channels/storage-error.ts';
import type { Position } from '../channels/stream.ts';
import type { RevocationTarget } from '../core/gateway.ts';
import { applicationClose, CloseCodes } from '../protocol/close-codes.ts';
import { utf8ByteLength } from '../protocol/parse.ts';
import { ApiError, type ApiErrorCode } from './errors.ts';
import type { ClusterView, Disconnector } from './ports.ts';
import type { MethodName, MethodResponse, ParsedRequest } from './schemas.ts';

export interface MethodDeps {
  readonly channels: ChannelService;
  readonly cluster: ClusterView;
  readonly disconnector: Disconnector;
  /** A publication's data, encoded as JSON, may be at most this long (the client message limit). */
  readonly maxDataBytes: number;
  /** The package version (`info`). */
  readonly version: string;
}

export type MethodHandlers = { readonly [M in MethodName]: (request: ParsedRequest<M>) => Promise<MethodResponse<M>> };

/** Who a publication made through the API is `from`: no `sub` an auth service issues starts with `$`. */
export const API_PUBLISHER = '$api';

/** Publishes of one broadcast in flight at once. */
const BROADCAST_CONCURRENCY = 16;

/** A user's personal channel: what `publish_to_user` publishes to (permission pattern `user:{sub}`). */
export const userChannel = (sub: string) => `user:${sub}`;

export function methodHandlers(deps: MethodDeps): MethodHandlers {
  const { channels } = deps;

  const publishOne = async (channel: string, data: unknown, idempotencyKey: string | undefined): Promise<Position | null> => {
    try {
      return await channels.publish(channel, data, API_PUBLISHER, idempotencyKey === undefined ? undefined : { idempotencyKey });
    } catch (error) {
      throw fromStorage(error);
    }
  };

  return {
    async publish({ channel, data, idempotencyKey }) {
      checkData(data, deps.maxDataBytes);
      return { position: await publishOne(channel, data, idempotencyKey) };
    },

    async broadcast({ channels: targets, data, idempotencyKey }) {
      checkData(data, deps.maxDataBytes);
      if (new Set(targets).size !== targets.length) throw new ApiError('invalid_request', 'channels: each channel at most once');
      const results: MethodResponse<'broadcast'>['results'][number][] = new Array(targets.length);
      // A few at a time: a broadcast to 1,000 channels must not open 1,000 storage calls at once.
      let next = 0;
      const worker = async () => {
        while (next < targets.length) {
          const i = next++;
          const channel = targets[i]!;
          try {
            results[i] = { channel, position: await publishOne(channel, data, idempotencyKey) };
          } catch (error) {
            const failure = error instanceof ApiError ? error : new ApiError('internal');
            results[i] = { channel, error: { code: failure.code, message: failure.message } };
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(BROADCAST_CONCURRENCY, targets.length) }, worker));
      return { results };
    },

    async publish_to_user({ user, data, idempotencyKey }) {
      const channel = userChannel(user);
      if (!isValidChannel(channel)) throw new ApiError('invalid_user', `user:${'{user}'} must be a valid channel name`);
      checkData(data, deps.maxDataBytes);
      return { channel, position: await publishOne(channel, data, idempotencyKey) };
    },

    async disconnect({ user, session, connection, reconnect, code }) {
      if (session !== undefined && connection !== undefined)
        throw new ApiError('invalid_request', 'name a session or a connection, not both');
      const chosen = code ?? (reconnect === true ? CloseCodes.disconnected.code : CloseCodes.disconnectedFinal.code);
      const close = applicationClose(chosen);
      if (close === null)
        throw new ApiError('invalid_request', `code: ${chosen} has a meaning of its own in the protocol; choose another in 4000–4999`);
      if (reconnect !== undefined && reconnect !== (close.retry === 'reconnect'))
        throw new ApiError('invalid_request', 'code and reconnect disagree: 4000–4499 reconnect, 4500–4999 do not');
      const target: RevocationTarget =
        connection !== undefined
          ? { sub: user, connectionId: connection }
          : session !== undefined
            ? { sub: user, sid: session }
            : { sub: user };
      try {
        return { closedHere: await deps.disconnector.disconnect(target, chosen) };
      } catch {
        throw new ApiError('unavailable', 'closed on this instance only: the other instances could not be reached');
      }
    },

    async presence({ channel, limit }) {
      try {
        const page = await channels.presence(channel, limit);
        return {
          entries: page.entries.map((e) => (e.info === undefined ? { sub: e.sub, connectionId: e.connectionId } : { ...e })),
          total: page.total,
        };
      } catch (error) {
        throw fromStorage(error);
      }
    },

    async presence_stats({ channel }) {
      try {
        const { connections, users } = await channels.presenceStats(channel);
        return { connections, users };
      } catch (error) {
        throw fromStorage(error);
      }
    },

    async history({ channel, limit, since }) {
      try {
        const page = await channels.history(channel, since === undefined ? { limit } : { limit, since });
        return {
          publications: page.publications.map((p) =>
            p.position === undefined ? { data: p.data, from: p.from } : { offset: p.position.offset, data: p.data, from: p.from },
          ),
          position: { offset: page.position.offset, epoch: page.position.epoch },
          epochMatches: page.epochMatches,
          reachesBack: page.reachesBack,
        };
      } catch (error) {
        throw fromStorage(error);
      }
    },

    async channels({ pattern, limit }) {
      const { answers, missing } = await deps.cluster.channels(pattern === undefined ? { limit } : { pattern, limit });
      const totals = new Map<string, number>();
      for (const answer of answers)
        for (const { channel, subscribers } of answer.channels) totals.set(channel, (totals.get(channel) ?? 0) + subscribers);
      const list = [...totals].map(([channel, subscribers]) => ({ channel, subscribers }));
      list.sort((a, b) => b.subscribers - a.subscribers || (a.channel < b.channel ? -1 : 1));
      return { channels: list, instances: answers.length, missing: [...missing], truncated: answers.some((a) => a.truncated) };
    },

    async info() {
      const { answers, missing } = await deps.cluster.info();
      const instances = [...answers].sort((a, b) =>
        a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : 1,
      );
      return {
        version: deps.version,
        connections: instances.reduce((sum, instance) => sum + instance.connections, 0),
        instances: instances.map((i) => ({ ...i })),
        missing: [...missing],
      };
    },
  };
}

/** The data as a client's publication would carry it: JSON, at most `max` bytes encoded. */
function checkData(data: unknown, max: number): void {
  let encoded: string;
  try {
    encoded = JSON.stringify(data);
  } catch {
    throw new ApiError('invalid_data'); // e.g. nested deeper than the encoder's stack
  }
  const bytes = utf8ByteLength(encoded);
  if (bytes > max) throw new ApiError('data_too_large', `data is ${bytes} bytes encoded; at most ${max}`);
}

const STORAGE_CODES: Readonly<Record<string, ApiErrorCode>> = {
  unavailable: 'unavailable',
  invalid_channel: 'invalid_channel',
  invalid_data: 'invalid_data',
  invalid_position: 'invalid_request',
  invalid_epoch: 'invalid_request',
  invalid_limit: 'invalid_request',
  history_disabled: 'history_disabled',
  presence_disabled: 'presence_disabled',
};

/** A storage port's rejection as the API's error; anything else is `internal` (logged by the routes). */
function fromStorage(error: unknown): Error {
  if (error instanceof StorageError) {
    const code: string = error.code;
    const mapped = Object.hasOwn(STORAGE_CODES, code) ? STORAGE_CODES[code]! : 'internal';
    return new ApiError(mapped);
  }
  return error instanceof Error ? error : new Error('non-error rejection');
}
