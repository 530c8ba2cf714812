/** The audit as a library: run the probes against a target, or use the raw-socket tools they are built from. */
export { runAudit, selectProbes, baselineInfo, type AuditResult, type AuditBound, type AuditProgress } from './runner.ts';
export { runAuditCommand } from './cli.ts';
export { probes } from './probes/index.ts';
export { withDefaults, defaultOptions, type AuditOptions, type CredentialSpec } from './options.ts';
export type { Finding, Severity, Status, Budget, ProbeInfo, Verdict } from './finding.ts';
export type { Probe, Plan } from './probe.ts';
export type { AuditHost, RawSocket, ConnectOptions, TlsOptions, TlsSession } from './host.ts';
export { ConnectError } from './host.ts';
export { RawConn } from './conn.ts';
export { RawWebSocket, describeClose, type CloseResult } from './ws.ts';
export {
  buildFrame,
  parseFrame,
  frameHeader,
  maskFrom,
  textFrame,
  Opcode,
  RSV1,
  RSV2,
  RSV3,
  type Frame,
  type FrameSpec,
  type LengthForm,
} from './frames.ts';
export {
  upgradeRequest,
  readHead,
  describeHead,
  acceptFor,
  randomKey,
  httpExchange,
  type HeadOutcome,
  type UpgradeRequestOptions,
} from './http.ts';
export { deflateBomb } from './deflate-bomb.ts';
export { textReport } from './report/text.ts';
export { htmlReport } from './report/html.ts';
