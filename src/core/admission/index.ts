/** Admission before a WebSocket upgrade: Origin allowlist, connection caps, upgrade rate. */
export { createAdmission } from './admission.ts';
export type { Admission, AdmissionOptions, AdmissionStats, RefusalReason } from './admission.ts';
export { ConnectionCounter } from './connection-counter.ts';
export type { AcquireResult, ConnectionLimits } from './connection-counter.ts';
export { parseOriginPolicy } from './origin-policy.ts';
export type { OriginCheckInput, OriginPolicy, OriginVerdict } from './origin-policy.ts';
export type { Slot } from './slots.ts';
