/**
 * hardened-ws, the library (the package's "." export): ticket-authenticated WebSockets for any
 * Hono app, with the pieces the server itself is assembled from. Web-standard only; the
 * runtime's `upgradeWebSocket` is passed in. Redis backends: `hardened-ws/redis`; the client
 * SDK: `hardened-ws/client`.
 */
// The gateway and its defaults
export { createGateway, type LibraryGatewayOptions as GatewayOptions, type RuntimeAdapter } from './library/create-gateway.ts';
export { admissionDefaults, heartbeatDefaults, type AdmissionSettings } from './library/defaults.ts';
export type { Gateway, RevocationTarget } from './core/gateway.ts';
export { defaultLimits, type Limits } from './core/limits.ts';
export type { GatewayObserver } from './core/observer.ts';
export {
  createAdmission,
  parseOriginPolicy,
  type Admission,
  type AdmissionOptions,
  type OriginPolicy,
  type RefusalReason,
  type Slot,
} from './core/admission/index.ts';
export { CloseCodes, retryClassOf, type CloseCodeInfo, type RetryClass } from './protocol/close-codes.ts';
export { silentLogger, type Logger } from './logging/logger.ts';
export type { RateSpec } from './core/token-bucket.ts';
// Handlers and channels
export type { Handler, HandlerContext, Handlers } from './core/handler.ts';
export { builtinHandlers, echo, ping } from './builtins/index.ts';
export {
  channelHandlers,
  namespaceTable,
  type LibraryChannelOptions as ChannelOptions,
  type NamespaceSettings,
} from './library/channels.ts';
export { isAllowed, isValidChannel, type ChannelAction } from './channels/index.ts';
export {
  createChannelService,
  ChannelNamespaces,
  type ChannelService,
  type PublishOptions,
  type NamespaceOptions,
} from './channels/index.ts';
export type { Broker, BrokerMessage, Listener } from './channels/broker.ts';
export type { Stream, StreamListener, Position, Publication, ReadRequest, ReadResult, HistoryPolicy } from './channels/stream.ts';
export type { Presence, PresenceEntry, PresencePage, PresenceStats } from './channels/presence.ts';
export { StorageError, type StorageErrorCode } from './channels/storage-error.ts';
export { MemoryBroker, type MemoryBrokerOptions } from './backends/memory/broker.ts';
export { MemoryStream, type MemoryStreamOptions } from './backends/memory/stream.ts';
export { MemoryPresence } from './backends/memory/presence.ts';
export type { UserConnections } from './core/user-connections.ts';
export { MemoryUserConnections } from './backends/memory/user-connections.ts';
export type { InboundMessage, OutboundMessage } from './protocol/messages.ts';
// Verification
export type { Identity, Verifier, VerifyRequest, VerifyResult } from './auth/verifier.ts';
export { HttpVerifier, type HttpVerifierOptions } from './auth/verifiers/http.ts';
export { withResilience, type ResilienceOptions, type ResilientVerifier, type BreakerState } from './auth/verifiers/resilient.ts';
// The embedded (simulated) auth service and its stores
export { createAuthService, parseDemoUsers, type AuthService, type AuthServiceOptions } from './auth-service/index.ts';
export type { TicketStore, TicketRecord } from './auth-service/ticket-store.ts';
export type { SessionStore, SessionRecord } from './auth-service/session-store.ts';
export { MemoryTicketStore } from './backends/memory/ticket-store.ts';
export { MemorySessionStore } from './backends/memory/session-store.ts';
