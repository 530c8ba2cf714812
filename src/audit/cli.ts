/** `hardened-ws audit …`: parse, print the bound, run, report (table, --json, --html); returns the exit status. */
import { auditHelp, parseAuditArgs } from './argv.ts';
import type { AuditHost } from './host.ts';
import { withDefaults } from './options.ts';
import { probes } from './probes/index.ts';
import { htmlReport } from './report/html.ts';
import { textProgress, textReport } from './report/text.ts';
import { probeIds, runAudit } from './runner.ts';
import { resolveTarget, UsageError } from './target.ts';

/** 0: the run completed and nothing failed; 1: a probe failed or could not run, or the run stopped early; 2: usage error (one line on stderr). */
export async function runAuditCommand(
  argv: readonly string[],
  host: AuditHost,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const usage = (message: string) => {
    host.writeStderr(`hardened-ws audit: ${message}\n`);
    return 2;
  };
  let parsed: ReturnType<typeof parseAuditArgs>;
  let ca: string | undefined;
  try {
    parsed = parseAuditArgs(argv, env, probeIds());
    if (parsed.kind === 'run') {
      resolveTarget(parsed.options);
      if (parsed.options.caFile !== undefined) ca = await readCa(host, parsed.options.caFile);
    }
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    throw error;
  }
  if (parsed.kind === 'help') {
    await host.writeStdout(`${auditHelp('hardened-ws')}\n`);
    return 0;
  }
  if (parsed.kind === 'list') {
    await host.writeStdout(`${probes.map((p) => `${p.id.padEnd(24)} ${p.severity.padEnd(7)} ${p.title}`).join('\n')}\n`);
    return 0;
  }
  const { caFile: _caFile, ...rest } = parsed.options;
  const options = withDefaults({ ...rest, ca });
  const result = await runAudit(
    options,
    host,
    textProgress((line) => host.writeStderr(line), options.url),
  );
  const table = textReport(result);
  if (parsed.json) {
    host.writeStderr(table);
    await host.writeStdout(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    await host.writeStdout(table);
  }
  if (parsed.htmlFile !== undefined) {
    try {
      await host.writeTextFile(parsed.htmlFile, htmlReport(result));
    } catch {
      host.writeStderr(`hardened-ws audit: could not write ${parsed.htmlFile}\n`);
      return 1;
    }
  }
  return result.summary.fail > 0 || result.summary.error > 0 || result.stopped !== null ? 1 : 0;
}

async function readCa(host: AuditHost, file: string): Promise<string> {
  let pem: string;
  try {
    pem = await host.readTextFile(file);
  } catch {
    throw new UsageError(`--ca: cannot read ${file.slice(0, 200)}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError('--ca: not a PEM certificate');
  return pem;
}
