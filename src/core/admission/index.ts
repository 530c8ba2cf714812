/** Admission before a WebSocket upgrade: Host and Origin checks, connection caps, upgrade rate. */
export { createAdmission } from './admission.ts';
export type { Admission, AdmissionOptions, AdmissionStats, RefusalReason } from './admission.ts';
export { ConnectionCounter } from './connection-counter.ts';
export type { AcquireResult, ConnectionLimits } from './connection-counter.ts';
export { createOriginGuard } from './origin-guard.ts';
export type { OriginGuard, OriginGuardOptions } from './origin-guard.ts';
export { parseOriginPolicy } from './origin-policy.ts';
export type { OriginCheckInput, OriginPolicy, OriginVerdict } from './origin-policy.ts';
export { fixedServerNames, listenOrigins, literalServerNames } from './server-names.ts';
export type { ServerNames } from './server-names.ts';
export type { Slot } from './slots.ts';
