/**
 * Runs the probes against one target, within a bound printed before anything is sent: a baseline
 * handshake first (no baseline, no verdicts), the passive probes beside the others, the active
 * ones one at a time with a control handshake after each, and a stop at the first sign the target
 * is struggling.
 */
import { BudgetError, HEAD_TIMEOUT_MS, ProbeContext, RETRY_POOL, describeRefusal, sleep, type RunState } from './context.ts';
import { CredentialError, Credentials, authStyle } from './credential.ts';
import { STATUSES, verdict, type Budget, type Finding, type ProbeInfo, type Status, type Verdict } from './finding.ts';
import { ConnectError, type AuditHost } from './host.ts';
import type { AuditOptions } from './options.ts';
import { budgetOf, HANDSHAKE_BYTES, planFor, sessionCost, type Plan, type Probe } from './probe.ts';
import { probes as allProbes } from './probes/index.ts';
import { resolveTarget } from './target.ts';
import { scrub } from './scrub.ts';

export interface AuditBound {
  readonly connections: number;
  readonly bytes: number;
  /** Longest the run can take. */
  readonly ms: number;
}

export interface AuditResult {
  readonly target: string;
  readonly ownOrigin: string;
  readonly credential: AuditOptions['credential']['kind'];
  readonly runtime: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly bound: AuditBound;
  readonly used: { readonly connections: number; readonly bytes: number };
  /** Why the run stopped before the end, or null. */
  readonly stopped: string | null;
  readonly summary: Readonly<Record<Status, number>>;
  readonly findings: readonly Finding[];
}

/** Told what happens as it happens (the CLI prints it on stderr). */
export interface AuditProgress {
  planned(bound: AuditBound, probes: number): void;
  started(probe: ProbeInfo): void;
  finished(finding: Finding): void;
  stopping(reason: string): void;
}

export const baselineInfo: ProbeInfo = {
  id: 'baseline',
  title: 'A valid upgrade from the own Origin (and the credential, when given) works',
  severity: 'high',
  reference: 'RFC 6455 §4.1, §4.2.2',
  fix: 'Point the audit at a WebSocket endpoint that answers 101 (check the URL, --origin, --ca and the credential).',
};

/** A probe slower than its budget by this much is cut off. */
const GRACE_MS = 2_000;
const CONTROL_SAMPLES = 3;

/** Probe ids the run knows (for --only). */
export const probeIds = (): string[] => allProbes.map((p) => p.id);

export function selectProbes(only: readonly string[] | undefined): Probe[] {
  if (only === undefined || only.length === 0) return [...allProbes];
  return allProbes.filter((p) =>
    only.some((sel) => p.id === sel || (sel.endsWith('.') && p.id.startsWith(sel)) || p.id.startsWith(`${sel}.`)),
  );
}

const preflightBudget = (plan: Plan): Budget => {
  const s = sessionCost(plan);
  const login = plan.options.credential.kind === 'login' ? 1 : 0;
  const b = budgetOf(plan, { upgrades: 1 + CONTROL_SAMPLES, ms: 3 * HEAD_TIMEOUT_MS + 15_000 });
  return {
    connections: b.connections + s.connections + login,
    bytes: b.bytes + s.bytes + login * HANDSHAKE_BYTES + plan.options.message.length + 64,
    ms: b.ms + 10_000,
  };
};
const controlBudget = (plan: Plan): Budget => budgetOf(plan, { upgrades: 1, ms: HEAD_TIMEOUT_MS + 1_000 });

interface Planned {
  readonly probe: Probe;
  /** Why it does not run: not applicable, or it did not fit --max-connections. */
  readonly skip?: { readonly status: Status; readonly why: string };
  readonly budget: Budget;
}

export async function runAudit(options: AuditOptions, host: AuditHost, progress?: AuditProgress): Promise<AuditResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const target = resolveTarget(options);
  const plan = planFor(options, target, host);
  const run: RunState = {
    host,
    target,
    options,
    credentials: undefined as unknown as Credentials,
    totals: { connections: 0, bytes: 0 },
    retriesLeft: RETRY_POOL,
    nextConnectAt: 0,
    secrets: new Set(),
  };
  const remember = (secret: string) => {
    if (secret.length >= 4) run.secrets.add(secret);
  };
  (run as { credentials: Credentials }).credentials = new Credentials(options.credential, { host, target, remember });

  // The plan and its bound, before anything is sent.
  const preflight = preflightBudget(plan);
  const control = controlBudget(plan);
  let room = options.maxConnections ?? Number.POSITIVE_INFINITY;
  room -= preflight.connections + RETRY_POOL;
  const planned: Planned[] = selectProbes(options.only).map((probe) => {
    const why = probe.applies?.(plan) ?? null;
    if (why !== null) return { probe, skip: { status: 'not-applicable', why }, budget: { connections: 0, bytes: 0, ms: 0 } };
    const budget = probe.budget(plan);
    const cost = budget.connections + (probe.passive ? 0 : 2 * control.connections);
    if (cost > room)
      return {
        probe,
        skip: { status: 'skipped', why: `not run: it needs ${cost} connections and --max-connections leaves ${Math.max(0, room)}` },
        budget: { connections: 0, bytes: 0, ms: 0 },
      };
    room -= cost;
    return { probe, budget };
  });
  const runs = planned.filter((p) => p.skip === undefined);
  const active = runs.filter((p) => !p.probe.passive);
  const passive = runs.filter((p) => p.probe.passive);
  const sum = (f: (b: Budget) => number, list: readonly Planned[]) => list.reduce((n, p) => n + f(p.budget), 0);
  const controls = 2 * active.length;
  const retryBytes = RETRY_POOL * HANDSHAKE_BYTES;
  const activeMs = sum((b) => b.ms + GRACE_MS, active) + controls * (control.ms + 1_000);
  const bound: AuditBound = {
    connections: preflight.connections + sum((b) => b.connections, runs) + controls * control.connections + RETRY_POOL,
    bytes: preflight.bytes + sum((b) => b.bytes, runs) + controls * control.bytes + retryBytes,
    ms: preflight.ms + Math.max(activeMs, ...passive.map((p) => p.budget.ms + GRACE_MS)),
  };
  progress?.planned(bound, runs.length);

  const findings = new Map<string, Finding>();
  const record = (f: Finding) => {
    findings.set(f.id, f);
    progress?.finished(f);
  };
  for (const p of planned) if (p.skip) record(finding(p.probe, verdict(p.skip.status, p.skip.why), 0, { connections: 0, bytes: 0 }));

  const execute = async (
    probe: ProbeInfo & { run(ctx: ProbeContext): Promise<Verdict> },
    budget: Budget,
    cancelled?: { ctx?: ProbeContext },
    quiet = false,
  ): Promise<Finding> => {
    if (!quiet) progress?.started(probe);
    const ctx = new ProbeContext(run, budget);
    if (cancelled) cancelled.ctx = ctx;
    const started = performance.now();
    let result: Verdict;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<Verdict>((resolve) => {
        timer = setTimeout(() => {
          ctx.cancel();
          resolve(verdict('error', `did not finish within its time budget (${Math.round(budget.ms / 1000)} s)`));
        }, budget.ms + GRACE_MS);
      });
      result = await Promise.race([probe.run(ctx), timeout]);
    } catch (error) {
      result = verdict('error', errorLine(error));
    } finally {
      clearTimeout(timer);
      ctx.cleanup();
    }
    if (ctx.overrun !== undefined) result = verdict('error', ...result.evidence, `stopped by its budget: ${ctx.overrun}`);
    return finding(probe, result, Math.round(performance.now() - started), ctx.used);
  };

  let stopped: string | null = null;
  const stop = (reason: string) => {
    stopped ??= reason;
    progress?.stopping(reason);
  };

  // 1. Baseline: the own Origin gets a 101 (and a session works, when there is a credential); control latency.
  let baselineMs = 0;
  const baseline = await execute({ ...baselineInfo, run: (ctx) => runBaseline(ctx, (ms) => (baselineMs = ms)) }, preflight);
  record(baseline);
  if (baseline.status !== 'pass') stop('the baseline handshake did not succeed');

  // 2. Passive probes beside the active ones.
  if (stopped)
    for (const p of passive) record(finding(p.probe, verdict('skipped', `not run: ${stopped}`), 0, { connections: 0, bytes: 0 }));
  const passiveRuns = stopped
    ? []
    : passive.map((p) => {
        const handle: { ctx?: ProbeContext } = {};
        return { p, handle, done: execute(p.probe, p.budget, handle) };
      });

  // 3. Active probes, one at a time, each followed by a control handshake.
  const threshold = baselineMs + Math.max(options.struggleMs, 5 * baselineMs);
  for (const p of active) {
    if (stopped) {
      record(finding(p.probe, verdict('skipped', `not run: ${stopped}`), 0, { connections: 0, bytes: 0 }));
      continue;
    }
    record(await execute(p.probe, p.budget));
    const health = await checkControl(execute, control, threshold);
    if (health !== null) stop(health);
  }

  for (const { p, handle, done } of passiveRuns) {
    if (stopped) handle.ctx?.cancel();
    const f = await done;
    record(stopped && f.status !== 'error' ? finding(p.probe, verdict('skipped', `stopped early: ${stopped}`), f.durationMs, f.used) : f);
  }

  const ordered = [baseline, ...planned.map((p) => findings.get(p.probe.id)!)].map((f) => ({
    ...f,
    evidence: f.evidence.map((e) => scrub(e, run.secrets)),
  }));
  const summary = Object.fromEntries(STATUSES.map((s) => [s, ordered.filter((f) => f.status === s).length])) as Record<Status, number>;
  return {
    target: target.url,
    ownOrigin: target.ownOrigin,
    credential: options.credential.kind,
    runtime: host.runtime,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    bound,
    used: { ...run.totals },
    stopped: stopped === null ? null : scrub(stopped, run.secrets),
    summary,
    findings: ordered,
  };
}

async function runBaseline(ctx: ProbeContext, setLatency: (ms: number) => void): Promise<Verdict> {
  const lines: string[] = [];
  const upgraded = await ctx.upgrade();
  if (upgraded.kind !== 'open') {
    upgraded.conn.destroy();
    const o = upgraded.outcome;
    const hint =
      o.kind === 'response' && o.status >= 200 && o.status < 300
        ? ': not a WebSocket endpoint'
        : o.kind === 'response' && o.status === 403
          ? ' (wrong --origin?)'
          : '';
    return verdict('error', `own Origin ${ctx.target.ownOrigin} → ${describeRefusal(upgraded)}${hint}`);
  }
  lines.push(`own Origin ${ctx.target.ownOrigin} → 101 in ${upgraded.ms} ms`);
  upgraded.ws.destroy();
  try {
    await ctx.prepareCredentials();
  } catch (error) {
    return verdict('error', ...lines, errorLine(error));
  }
  const check = await ctx.sessionUsable();
  const style = authStyle(ctx.credentials.spec);
  if (check.usable)
    lines.push(
      `session ${check.authenticated ? 'authenticated' : 'without authentication'}; a valid message ${check.replied ? 'was answered' : 'kept it open'}`,
    );
  else if (style !== 'none') return verdict('error', ...lines, `no usable session: ${check.why}`);
  else lines.push(`message probes not applicable: ${check.why}`);
  const samples: number[] = [];
  for (let i = 0; i < CONTROL_SAMPLES; i++) {
    const control = await ctx.upgrade();
    if (control.kind !== 'open') return verdict('error', ...lines, `control handshake ${i + 1} → ${describeRefusal(control)}`);
    control.ws.destroy();
    samples.push(control.ms);
  }
  const median = [...samples].sort((a, b) => a - b)[1]!;
  setLatency(median);
  lines.push(`control handshakes: ${samples.join(', ')} ms`);
  return verdict('pass', ...lines);
}

type Execute = (
  probe: ProbeInfo & { run(ctx: ProbeContext): Promise<Verdict> },
  budget: Budget,
  cancelled: undefined,
  quiet: boolean,
) => Promise<Finding>;

/** null when the target answers a control handshake within `threshold` ms (tried twice, 1 s apart); otherwise why to stop. */
async function checkControl(execute: Execute, budget: Budget, threshold: number): Promise<string | null> {
  let last = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) await sleep(1_000);
    let ms = -1;
    const f = await execute(
      {
        id: 'control',
        title: 'control handshake',
        severity: 'info',
        reference: '',
        fix: '',
        run: async (ctx) => {
          const r = await ctx.upgrade();
          if (r.kind !== 'open') return verdict('error', describeRefusal(r));
          r.ws.destroy();
          ms = r.ms;
          return verdict('pass');
        },
      },
      budget,
      undefined,
      true,
    );
    if (f.status === 'pass' && ms <= threshold) return null;
    last =
      f.status === 'pass'
        ? `a control handshake took ${ms} ms (threshold ${Math.round(threshold)} ms)`
        : `a control handshake failed: ${f.evidence[0] ?? f.status}`;
  }
  return `the target looks strained: ${last}`;
}

function finding(info: ProbeInfo, v: Verdict, durationMs: number, used: { connections: number; bytes: number }): Finding {
  return {
    id: info.id,
    title: info.title,
    severity: info.severity,
    reference: info.reference,
    fix: info.fix,
    status: v.status,
    evidence: v.evidence,
    durationMs,
    used: { ...used },
  };
}

function errorLine(error: unknown): string {
  if (error instanceof ConnectError) return `cannot connect: ${error.code}${tlsHint(error.code)}`;
  if (error instanceof CredentialError || error instanceof BudgetError) return error.message;
  return `unexpected error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200);
}

const tlsHint = (code: string) =>
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ISSUER/i.test(code)
    ? ' (the certificate does not verify: pass --ca <file> for a private CA, or --insecure to audit anyway)'
    : '';
