/** The same report as a self-contained HTML page (`--html report.html`): no scripts, no external resources. */
import { formatBytes } from '../bytes.ts';
import { SEVERITIES, STATUSES, type Finding } from '../finding.ts';
import type { AuditResult } from '../runner.ts';
import { formatMs } from './text.ts';

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function row(f: Finding): string {
  const evidence = f.evidence.map((e) => `<li>${escape(e)}</li>`).join('');
  const detailed = f.status === 'fail' || f.status === 'warn' || f.status === 'error';
  return `<tr class="${f.status}"><td class="status">${escape(f.status)}</td><td><code>${escape(f.id)}</code></td><td>${escape(f.title)}<ul>${evidence}</ul>${
    detailed ? `<p><b>Fix:</b> ${escape(f.fix)}</p>` : ''
  }<p class="ref">${escape(f.reference)}</p></td></tr>`;
}

export function htmlReport(result: AuditResult): string {
  const s = result.summary;
  const groups = SEVERITIES.map((severity) => {
    const group = result.findings
      .filter((f) => f.severity === severity)
      .sort((a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status));
    return group.length === 0 ? '' : `<h2>${escape(severity)}</h2><table><tbody>${group.map(row).join('')}</tbody></table>`;
  }).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>hardened-ws audit: ${escape(result.target)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.5rem;vertical-align:top}
td.status{font-weight:600;width:7rem}ul{margin:.3rem 0;padding-left:1.2rem}.ref{color:#666;font-size:13px;margin:.2rem 0}
tr.fail td.status,tr.error td.status{color:#b00020}tr.warn td.status{color:#9a6700}tr.pass td.status{color:#1a7f37}
tr.not-applicable td.status,tr.skipped td.status{color:#666}
</style></head><body>
<h1>hardened-ws audit</h1>
<p><code>${escape(result.target)}</code> — own Origin <code>${escape(result.ownOrigin)}</code>, credential: ${escape(result.credential)}, ${escape(result.runtime)}, ${escape(result.startedAt)}</p>
<p>${s.fail} fail, ${s.error} error, ${s.warn} warn, ${s.pass} pass, ${s['not-applicable']} not applicable, ${s.skipped} skipped — ${escape(formatMs(result.durationMs))};
used ${result.used.connections} connections and ${escape(formatBytes(result.used.bytes))} sent (bound ${result.bound.connections} and ${escape(formatBytes(result.bound.bytes))})${result.stopped ? `; stopped early: ${escape(result.stopped)}` : ''}</p>
${groups}
</body></html>
`;
}
