/** Cross-site WebSocket hijacking: does the endpoint upgrade for Origins other than its own? */
import { describeRefusal, HEAD_TIMEOUT_MS, type ProbeContext } from '../context.ts';
import { verdict, type Verdict } from '../finding.ts';
import { budgetOf, type Probe } from '../probe.ts';

const CSWSH_REF = 'OWASP WebSocket Security Cheat Sheet: Origin Header Validation; ASVS 5.0 V4.4.2; CWE-1385';
const CSWSH_FIX = 'Check Origin against an exact allowlist (scheme, host and port) before the upgrade and answer 403 otherwise.';

/** "Origin x → 403", counting x as accepted when it got a valid 101. */
async function tryOrigin(ctx: ProbeContext, origin: string | null): Promise<{ accepted: boolean; limited: boolean; line: string }> {
  const result = await ctx.upgrade({ origin });
  const label = origin === null ? 'no Origin' : `Origin ${origin}`;
  if (result.kind === 'open') {
    result.ws.destroy();
    return { accepted: true, limited: false, line: `${label} → 101 (upgraded)` };
  }
  result.conn.destroy();
  const o = result.outcome;
  const limited = o.kind === 'response' && (o.status === 429 || o.status === 503);
  return { accepted: false, limited, line: `${label} → ${describeRefusal(result)}` };
}

function judge(results: Awaited<ReturnType<typeof tryOrigin>>[]): Verdict {
  const lines = results.map((r) => r.line);
  if (results.some((r) => r.accepted)) return verdict('fail', ...lines);
  // A rate limit says nothing about the Origin check.
  if (results.some((r) => r.limited))
    return verdict('error', ...lines, 'the endpoint rate-limited the audit: retry with a lower --connect-rate');
  return verdict('pass', ...lines);
}

export const originForeign: Probe = {
  id: 'origin.foreign',
  title: 'Upgrade from a foreign Origin',
  severity: 'high',
  reference: CSWSH_REF,
  fix: CSWSH_FIX,
  budget: (plan) => budgetOf(plan, { upgrades: 1, ms: HEAD_TIMEOUT_MS + 6_000 }),
  run: async (ctx) => judge([await tryOrigin(ctx, 'https://evil.example')]),
};

export const originNull: Probe = {
  id: 'origin.null',
  title: 'Upgrade from Origin: null (sandboxed frames, file: and data: pages)',
  severity: 'high',
  reference: CSWSH_REF,
  fix: 'Refuse Origin "null" unless you list it on purpose; it is what sandboxed and local pages send.',
  budget: (plan) => budgetOf(plan, { upgrades: 1, ms: HEAD_TIMEOUT_MS + 6_000 }),
  run: async (ctx) => judge([await tryOrigin(ctx, 'null')]),
};

/** Origins a naive prefix, suffix, hostname-only or scheme-blind check lets through. */
export function lookalikes(own: string): string[] {
  const url = new URL(own);
  const scheme = url.protocol.replace(':', '');
  const port = url.port === '' ? '' : `:${url.port}`;
  const otherScheme = scheme === 'https' ? 'http' : 'https';
  const otherPort = url.port === '' ? (scheme === 'https' ? ':8443' : ':8080') : `:${(Number(url.port) % 65535) + 1}`;
  const list = [
    `${own}.evil.example`,
    `${scheme}://${url.hostname}.evil.example${port}`,
    `${scheme}://evil${url.hostname}${port}`,
    `${otherScheme}://${url.host}`,
    `${scheme}://${url.hostname}${otherPort}`,
  ];
  return [...new Set(list)]; // without a port, the first two are the same
}

export const originLookalike: Probe = {
  id: 'origin.lookalike',
  title: 'Upgrade from look-alike Origins (prefix, suffix, other scheme or port)',
  severity: 'high',
  reference: CSWSH_REF,
  fix: 'Compare the whole serialised origin for equality; never startsWith, endsWith, includes or a hostname-only match.',
  budget: (plan) => budgetOf(plan, { upgrades: lookalikes(plan.target.ownOrigin).length, ms: 5 * HEAD_TIMEOUT_MS + 6_000 }),
  run: async (ctx) => {
    const results = [];
    for (const origin of lookalikes(ctx.target.ownOrigin)) results.push(await tryOrigin(ctx, origin));
    return judge(results);
  },
};

export const originMissing: Probe = {
  id: 'origin.missing',
  title: 'Upgrade without an Origin header',
  severity: 'info',
  reference: 'RFC 6455 §10.2; OWASP WebSocket Security Cheat Sheet: Origin Header Validation',
  fix: 'Browsers always send Origin; accepting its absence is fine for non-browser clients when authentication does not rely on cookies.',
  budget: (plan) => budgetOf(plan, { upgrades: 1, ms: HEAD_TIMEOUT_MS + 6_000 }),
  run: async (ctx) => {
    const r = await tryOrigin(ctx, null);
    const note = r.accepted ? 'accepted: browsers always send Origin, so this only admits non-browser clients' : 'refused';
    return r.line.includes('no response')
      ? verdict('warn', r.line, 'the endpoint neither answered nor closed')
      : verdict('pass', r.line, note);
  },
};
