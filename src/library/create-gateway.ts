/**
 * The library's `createGateway`: the gateway with the server's safe defaults filled in — the
 * built-in handlers, an in-process per-user counter, and admission (same-origin only, per-IP caps
 * and upgrade rate) — unless the caller chooses otherwise explicitly.
 */
import type { Context } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import { MemoryUserConnections } from '../backends/memory/user-connections.ts';
import { createAdmission, type Admission } from '../core/admission/index.ts';
import { createFanout } from '../core/fanout.ts';
import { createGateway as createCoreGateway, type Gateway, type GatewayOptions } from '../core/gateway.ts';
import { resolveLimits } from '../core/limits.ts';
import type { Handlers } from '../core/handler.ts';
import { silentLogger } from '../logging/logger.ts';
import { builtinHandlers } from '../builtins/index.ts';
import type { SocketRuntime } from '../core/socket-port.ts';
import { honoSocketRuntime } from './hono-runtime.ts';
import { admissionDefaults, type AdmissionSettings } from './defaults.ts';
import { channelHandlers, type LibraryChannelOptions } from './channels.ts';

/** A runtime adapter (`hardened-ws/node`): the WebSocket upgrade in the gateway's terms and the client IP. */
export interface RuntimeAdapter {
  readonly socketRuntime: SocketRuntime;
  clientIp(c: Context): string | null;
}

/** Either a runtime adapter, or the runtime's own Hono `upgradeWebSocket` helper (`hono/bun`, …). */
type Upgrade =
  | { readonly runtime: RuntimeAdapter; readonly upgradeWebSocket?: never }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | { readonly runtime?: never; readonly upgradeWebSocket: UpgradeWebSocket<any, any> };

export type LibraryGatewayOptions = Upgrade & LibraryOptions;

interface LibraryOptions extends Omit<GatewayOptions, 'handlers' | 'userConnections' | 'admission' | 'runtime'> {
  /**
   * Message handlers by `type`. Default: the built-ins (echo, ping). Given, they replace the
   * defaults: spread `builtinHandlers` (and `channelHandlers()`) to keep them.
   */
  readonly handlers?: Handlers;
  /**
   * Pub/sub channels (subscribe, publish, history, presence…) added to `handlers`. Default: none.
   * `{}` gives them with the defaults of `channelHandlers()`: in-process stream and presence, and
   * no namespace keeping history until you name one in `namespaces`.
   */
  readonly channels?: LibraryChannelOptions;
  /** Default: in-process. Pass `RedisUserConnections` to cap a user's sockets across instances. */
  readonly userConnections?: GatewayOptions['userConnections'];
  /**
   * The checks before the upgrade. Default: `admissionDefaults` — only the server's own origin
   * (403 for any other Origin), 256 sockets per IP, 20 upgrades/s per IP (burst 60), 20,000 in
   * all — and, until `publicOrigins` names the origins your users reach you at, only IP-literal
   * and `localhost` Hosts (a DNS name gets 421: the defence against DNS rebinding). Pass some
   * settings to change those (e.g. `{ publicOrigins: 'https://app.example' }`), an `Admission`
   * from `createAdmission` to share one, or `false` to switch every check off. Per-IP limits
   * need `clientIp` (a runtime adapter supplies it).
   */
  readonly admission?: Partial<AdmissionSettings> | Admission | false;
}

export function createGateway(options: LibraryGatewayOptions): Gateway {
  const logger = options.logger ?? silentLogger;
  const { runtime } = options;
  const clientIp = options.clientIp ?? runtime?.clientIp.bind(runtime);
  const socketRuntime = runtime?.socketRuntime ?? honoSocketRuntime(options.upgradeWebSocket!);
  const channels = () => {
    // The runtime's own fan-out (hardened-ws/node has one), under the gateway's send-buffer cap.
    const fanout = createFanout(socketRuntime.topics, resolveLimits(options.limits).maxBufferedBytes, options.observer);
    return channelHandlers({ logger, ...(fanout ? { fanout } : {}), ...options.channels });
  };
  return createCoreGateway({
    ...options,
    runtime: socketRuntime,
    clientIp,
    handlers:
      options.channels === undefined ? (options.handlers ?? builtinHandlers) : { ...(options.handlers ?? builtinHandlers), ...channels() },
    userConnections: options.userConnections ?? new MemoryUserConnections(),
    admission: admissionFor(options, clientIp, logger),
  });
}

function admissionFor(
  options: LibraryGatewayOptions,
  clientIp: GatewayOptions['clientIp'],
  logger: NonNullable<GatewayOptions['logger']>,
): GatewayOptions['admission'] {
  const { admission } = options;
  if (admission === false) {
    logger.warn({}, 'admission switched off: any web page may open sockets, and no per-IP cap or upgrade rate applies');
    return undefined;
  }
  if (admission !== undefined && 'middleware' in admission) return admission;
  return createAdmission({ ...admissionDefaults, ...admission, clientIp: clientIp ?? (() => null), logger });
}
