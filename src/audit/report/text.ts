/** The human report: progress lines while the audit runs, and a table grouped by severity at the end. */
import { formatBytes } from '../bytes.ts';
import { SEVERITIES, STATUSES, type Finding, type Status } from '../finding.ts';
import type { AuditBound, AuditProgress, AuditResult } from '../runner.ts';

const LABEL: Record<Status, string> = {
  fail: 'FAIL',
  error: 'ERROR',
  warn: 'WARN',
  pass: 'pass',
  'not-applicable': 'n/a',
  skipped: 'skip',
};

export const formatMs = (ms: number): string =>
  ms < 1_000
    ? `${ms} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

export function boundLine(bound: AuditBound): string {
  return `at most ${bound.connections} connections, ${formatBytes(bound.bytes)} sent, ${formatMs(bound.ms)}`;
}

/** Progress on stderr: the bound first, then one line per probe as it finishes. */
export function textProgress(write: (line: string) => void, target: string): AuditProgress {
  let total = 0;
  let done = 0;
  return {
    planned(bound, probes) {
      total = probes + 1;
      write(`hardened-ws audit ${target}: ${probes} probes, ${boundLine(bound)}\n`);
    },
    started() {},
    finished(f) {
      if (f.status === 'not-applicable' || (f.status === 'skipped' && f.durationMs === 0)) return;
      done++;
      const counter = `[${String(done).padStart(String(total).length)}/${total}]`;
      write(`${counter} ${f.id.padEnd(24)} ${LABEL[f.status].padEnd(5)} ${formatMs(f.durationMs)}\n`);
    },
    stopping(reason) {
      write(`stopping: ${reason}\n`);
    },
  };
}

const byStatus = (a: Finding, b: Finding) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status);

export function textReport(result: AuditResult): string {
  const s = result.summary;
  const lines = [
    '',
    `hardened-ws audit ${result.target}  (own Origin ${result.ownOrigin}; credential: ${result.credential}; ${result.runtime})`,
    `${result.findings.length} checks in ${formatMs(result.durationMs)}; used ${result.used.connections} connections, ${formatBytes(result.used.bytes)} sent (bound: ${result.bound.connections}, ${formatBytes(result.bound.bytes)})`,
    `${s.fail} fail, ${s.error} error, ${s.warn} warn, ${s.pass} pass, ${s['not-applicable']} not applicable, ${s.skipped} skipped`,
  ];
  if (result.stopped) lines.push(`stopped early: ${result.stopped}`);
  // Probes the stop left out are one line, not a row each.
  const leftOut = (f: Finding) => f.status === 'skipped' && result.stopped !== null && f.evidence[0]?.endsWith(result.stopped) === true;
  const notRun = result.findings.filter(leftOut);
  if (notRun.length > 0) lines.push(`not run: ${notRun.map((f) => f.id).join(', ')}`);
  for (const severity of SEVERITIES) {
    const group = result.findings.filter((f) => f.severity === severity && !leftOut(f)).sort(byStatus);
    if (group.length === 0) continue;
    lines.push('', severity.toUpperCase());
    for (const f of group) {
      lines.push(`  ${LABEL[f.status].padEnd(5)}  ${f.id.padEnd(22)}  ${f.title}`);
      const detailed = f.status === 'fail' || f.status === 'warn' || f.status === 'error';
      const evidence = detailed ? f.evidence : f.evidence.slice(0, 1);
      for (const e of evidence) lines.push(`         ${e}`);
      if (detailed) {
        lines.push(`         fix: ${f.fix}`);
        if (f.reference) lines.push(`         ref: ${f.reference}`);
      }
    }
  }
  lines.push('');
  return lines.join('\n');
}
