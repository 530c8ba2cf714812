/**
 * hardened-ws, the library: ticket-authenticated WebSockets for any Hono app.
 * Web-standard only; the runtime's `upgradeWebSocket` is passed in.
 */
export { createGateway, type Gateway, type GatewayOptions, type RevocationTarget } from './core/gateway.ts';
export type { Handler, HandlerContext, Handlers } from './core/handlers.ts';
export { createAdmission, parseOriginPolicy, type Admission, type AdmissionOptions, type OriginPolicy, type Slot } from './core/admission/index.ts';
export { defaultLimits, type Limits } from './core/limits.ts';
export { CloseCodes, retryClassOf, type CloseCodeInfo, type RetryClass } from './core/close-codes.ts';
export { silentLogger, type Logger } from './core/logger.ts';
export type { Identity, Verifier, VerifyRequest, VerifyResult } from './auth/verifier.ts';
export { HttpVerifier, type HttpVerifierOptions } from './auth/verifiers/http.ts';
export { withResilience, type ResilienceOptions, type ResilientVerifier, type BreakerState } from './auth/verifiers/resilient.ts';
export { builtinHandlers, echo, ping } from './handlers/index.ts';
export type { InboundMessage, OutboundMessage } from './protocol/messages.ts';
export { createAuthService, parseDemoUsers, type AuthService, type AuthServiceOptions } from './auth-service/index.ts';
export type { TicketStore, TicketRecord } from './store/ticket-store.ts';
export type { SessionStore, SessionRecord } from './store/session-store.ts';
export { MemoryTicketStore } from './store/memory-ticket-store.ts';
export { MemorySessionStore } from './store/memory-session-store.ts';
