/** Malformed and unusual upgrade requests: each must get a 4xx (or a closed connection), never a 101 and never silence. */
import { describeHead, type UpgradeRequestOptions } from '../http.ts';
import { HEAD_TIMEOUT_MS, type ProbeContext } from '../context.ts';
import { verdict, type Verdict } from '../finding.ts';
import { budgetOf, HANDSHAKE_BYTES, type Probe } from '../probe.ts';

interface Attempt {
  readonly name: string;
  readonly upgraded: boolean;
  readonly silent: boolean;
  /** The server answered and then left the connection open (ms waited), or closed it after `closedMs`. */
  readonly lingered?: boolean;
  readonly line: string;
}

/** Sends one request (with the handshake credential, so a refusal is about the request itself). */
async function attempt(ctx: ProbeContext, name: string, request: Partial<UpgradeRequestOptions>, watchClose = false): Promise<Attempt> {
  const path = ctx.credentials.pathWith(request.path ?? ctx.target.path);
  const extraHeaders = [...ctx.credentials.handshakeHeaders, ...(request.extraHeaders ?? [])];
  const { conn, outcome } = await ctx.request({ ...request, path, extraHeaders });
  const upgraded = outcome.kind === 'response' && outcome.status === 101;
  let lingered: boolean | undefined;
  let closing = '';
  if (watchClose && outcome.kind === 'response' && !upgraded) {
    const started = performance.now();
    const ended = await conn.waitEnded(HEAD_TIMEOUT_MS);
    lingered = !ended;
    closing = ended
      ? `, connection closed after ${Math.round(performance.now() - started)} ms`
      : `, connection left open ${HEAD_TIMEOUT_MS} ms`;
  }
  conn.destroy();
  return {
    name,
    upgraded,
    silent: outcome.kind === 'timeout',
    lingered,
    line: `${name} → ${describeHead(outcome, HEAD_TIMEOUT_MS)}${closing}`,
  };
}

function judge(attempts: readonly Attempt[], silence: 'warn' | 'fail'): Verdict {
  const lines = attempts.map((a) => a.line);
  if (attempts.some((a) => a.upgraded)) return verdict('fail', ...lines);
  if (attempts.some((a) => a.silent)) return verdict(silence, ...lines);
  if (attempts.some((a) => a.lingered)) return verdict('warn', ...lines);
  return verdict('pass', ...lines);
}

export const handshakeVersion: Probe = {
  id: 'handshake.version',
  title: 'Upgrade with a wrong or missing Sec-WebSocket-Version',
  severity: 'medium',
  reference: 'RFC 6455 §4.2.1, §4.4; OWASP WebSocket Security Cheat Sheet: WebSocket Protocol Configuration',
  fix: 'Accept only Sec-WebSocket-Version: 13; answer others 426 with Sec-WebSocket-Version: 13.',
  budget: (plan) => budgetOf(plan, { upgrades: 2, ms: 2 * HEAD_TIMEOUT_MS + 4_000 }),
  run: async (ctx) =>
    judge(
      [
        await attempt(ctx, 'Sec-WebSocket-Version: 12', { version: '12' }),
        await attempt(ctx, 'no Sec-WebSocket-Version', { version: null }),
      ],
      'warn',
    ),
};

export const handshakeKey: Probe = {
  id: 'handshake.key',
  title: 'Upgrade with a missing or malformed Sec-WebSocket-Key',
  severity: 'medium',
  reference: 'RFC 6455 §4.2.1 (item 5)',
  fix: 'Require a Sec-WebSocket-Key that is base64 of exactly 16 bytes; answer 400 otherwise.',
  budget: (plan) => budgetOf(plan, { upgrades: 2, ms: 2 * HEAD_TIMEOUT_MS + 4_000 }),
  run: async (ctx) =>
    judge(
      [
        await attempt(ctx, 'no Sec-WebSocket-Key', { key: null }),
        await attempt(ctx, 'Sec-WebSocket-Key: not-a-key!', { key: 'not-a-key!' }),
      ],
      'warn',
    ),
};

export const handshakeUpgrade: Probe = {
  id: 'handshake.upgrade',
  title: 'Upgrade: h2c and other non-WebSocket Upgrade values',
  severity: 'medium',
  reference: 'RFC 6455 §4.2.1 (item 3); h2c smuggling; GHSA-8wcc-wqxr-28qp (@hono/node-server left such sockets hanging)',
  fix: 'Answer any Upgrade other than websocket with 400 and close the connection; never switch to h2c on a public endpoint.',
  budget: (plan) => budgetOf(plan, { upgrades: 2, ms: 4 * HEAD_TIMEOUT_MS + 4_000 }),
  run: async (ctx) =>
    judge(
      [
        await attempt(
          ctx,
          'Upgrade: h2c',
          {
            upgrade: 'h2c',
            connection: 'Upgrade, HTTP2-Settings',
            key: null,
            version: null,
            extraHeaders: [['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA']],
          },
          true,
        ),
        await attempt(ctx, 'Upgrade: websocketx', { upgrade: 'websocketx' }, true),
      ],
      'fail',
    ),
};

export const handshakeTarget: Probe = {
  id: 'handshake.target',
  title: 'Absolute-form and //host request targets',
  severity: 'low',
  reference: 'RFC 9112 §3.2.2 (absolute-form is for proxies); host-confusion in routing, caches and logs',
  fix: 'Refuse an upgrade whose request target names another host, or whose path starts with //.',
  budget: (plan) => budgetOf(plan, { upgrades: 2, ms: 2 * HEAD_TIMEOUT_MS + 4_000 }),
  run: async (ctx) =>
    judge(
      [
        await attempt(ctx, `GET http://evil.example${ctx.target.path}`, { path: `http://evil.example${ctx.target.path}` }),
        await attempt(ctx, `GET //evil.example${ctx.target.path}`, { path: `//evil.example${ctx.target.path}` }),
      ],
      'warn',
    ),
};

const BIG_HEADER = 64 * 1024;
const MANY_HEADERS = 2_000;

export const handshakeHeaders: Probe = {
  id: 'handshake.headers',
  title: 'Upgrade with a 64 KiB header or 2,000 headers',
  severity: 'medium',
  reference: 'RFC 9110 §5.4 (field limits, 431); OWASP WebSocket Security Cheat Sheet: Denial-of-Service Protection',
  fix: 'Cap header size and count before the upgrade (e.g. 16 KiB and 100 headers); answer 431.',
  budget: (plan) =>
    budgetOf(plan, { upgrades: 2, bytes: 2 * HANDSHAKE_BYTES + BIG_HEADER + MANY_HEADERS * 16, ms: 2 * HEAD_TIMEOUT_MS + 4_000 }),
  run: async (ctx) =>
    judge(
      [
        await attempt(ctx, 'a 64 KiB header', { extraHeaders: [['X-Audit-Big', 'a'.repeat(BIG_HEADER)]] }),
        await attempt(ctx, '2,000 headers', { extraHeaders: Array.from({ length: MANY_HEADERS }, (_, i) => [`X-A${i}`, 'v'] as const) }),
      ],
      'warn',
    ),
};
