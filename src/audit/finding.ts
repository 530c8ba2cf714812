/** What a probe is (data) and what it reports (a finding). */

export type Severity = 'high' | 'medium' | 'low' | 'info';

/**
 * pass / warn / fail: the verdict. not-applicable: nothing to check on this target (e.g. TLS on
 * ws://). skipped: not run (the run stopped, or the connection budget left it out). error: the
 * probe could not reach a verdict (the target went away, rate-limited the audit, or never answered).
 */
export type Status = 'pass' | 'warn' | 'fail' | 'not-applicable' | 'skipped' | 'error';

export const SEVERITIES: readonly Severity[] = ['high', 'medium', 'low', 'info'];
export const STATUSES: readonly Status[] = ['fail', 'error', 'warn', 'pass', 'not-applicable', 'skipped'];

/** The most a probe may spend; the run's printed bound is their sum. */
export interface Budget {
  readonly connections: number;
  /** Bytes the audit sends (what it controls). */
  readonly bytes: number;
  readonly ms: number;
}

export interface ProbeInfo {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /** RFC 6455 section, OWASP WebSocket Security Cheat Sheet item, ASVS 5.0 requirement or CVE. */
  readonly reference: string;
  /** One line: what to change when it does not pass. */
  readonly fix: string;
}

export interface Verdict {
  readonly status: Status;
  /** Facts the verdict rests on: status codes, close codes, timings, byte counts. Never a credential. */
  readonly evidence: readonly string[];
}

export interface Finding extends ProbeInfo, Verdict {
  readonly durationMs: number;
  readonly used: { readonly connections: number; readonly bytes: number };
}

export const verdict = (status: Status, ...evidence: string[]): Verdict => ({ status, evidence });
