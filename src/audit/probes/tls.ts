/** Transport: wss:// at all, and for wss:// the TLS versions, cipher suites, certificate and HSTS. */
import { ConnectError, type TlsVersion } from '../host.ts';
import { httpExchange } from '../http.ts';
import type { ProbeContext } from '../context.ts';
import { verdict } from '../finding.ts';
import { budgetOf, type Plan, type Probe } from '../probe.ts';

const needsTls = (plan: Plan) => (plan.target.secure ? null : 'ws:// target: no TLS');

/** A handshake the server refused (alert, reset), as opposed to one that never reached it. */
const refusedByServer = (code: string) =>
  code.startsWith('ERR_SSL') || code === 'ECONNRESET' || code === 'EPROTO' || code.includes('ALERT') || code.includes('HANDSHAKE');

type Handshake = { ok: true; protocol: string | null; cipher: string | null } | { ok: false; refused: boolean; code: string };

async function handshake(
  ctx: ProbeContext,
  tls: { minVersion?: TlsVersion; maxVersion?: TlsVersion; ciphers?: string; legacy?: boolean },
): Promise<Handshake> {
  try {
    const conn = await ctx.connect({ verify: false, ...tls });
    const session = conn.socket.tls;
    conn.destroy();
    return { ok: true, protocol: session?.protocol ?? null, cipher: session?.cipher ?? null };
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    return { ok: false, refused: refusedByServer(error.code), code: error.code };
  }
}

export const transportTls: Probe = {
  id: 'transport.tls',
  title: 'The endpoint is served over wss://',
  severity: 'medium',
  reference: 'ASVS 5.0 V4.4.1; OWASP WebSocket Security Cheat Sheet: Always Use WSS',
  fix: 'Serve WebSockets only over wss:// (tickets and messages cross the network in clear text on ws://).',
  budget: () => ({ connections: 0, bytes: 0, ms: 100 }),
  run: async (ctx) => {
    if (ctx.target.secure) return verdict('pass', 'wss://');
    if (ctx.target.loopback) return verdict('not-applicable', 'ws:// on a loopback address (local development)');
    return verdict('fail', `ws:// to ${ctx.target.host}: unencrypted`);
  },
};

export const tlsVersions: Probe = {
  id: 'tls.versions',
  title: 'TLS 1.0 and 1.1 refused',
  severity: 'high',
  reference: 'ASVS 5.0 V12.1.1; RFC 8996 (TLS 1.0 and 1.1 deprecated)',
  fix: 'Accept TLS 1.2 and 1.3 only (e.g. Node minVersion: "TLSv1.2").',
  applies: needsTls,
  budget: (plan) => budgetOf(plan, { upgrades: 3, bytes: 3 * 2_048, ms: 20_000 }),
  run: async (ctx) => {
    if (!ctx.run.host.tlsClient.legacyVersions)
      return verdict(
        'not-applicable',
        `this runtime's TLS client (${ctx.run.host.runtime}) cannot offer TLS 1.0/1.1: run the audit on Node or Bun to check them`,
      );
    const lines: string[] = [];
    let accepted = false;
    let unknown = false;
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      const h = await handshake(ctx, { minVersion: version, maxVersion: version, legacy: true });
      if (h.ok) {
        accepted = accepted || h.protocol === version;
        lines.push(`${version} → accepted (${h.protocol}, ${h.cipher})`);
      } else {
        unknown = unknown || !h.refused;
        lines.push(`${version} → refused (${h.code})`);
      }
    }
    const modern = await handshake(ctx, {});
    lines.push(modern.ok ? `default → ${modern.protocol} (${modern.cipher})` : `default → failed (${modern.code})`);
    if (accepted) return verdict('fail', ...lines);
    return unknown ? verdict('error', ...lines, 'a handshake failed before reaching the server') : verdict('pass', ...lines);
  },
};

/** TLS 1.2 suites without forward secrecy (RSA key exchange), and forward-secret ones without AEAD (CBC). */
const WEAK_SUITES = [
  {
    name: 'without forward secrecy (RSA key exchange)',
    list: 'AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA',
  },
  {
    name: 'without AEAD (CBC)',
    list: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384',
  },
] as const;

export const tlsCiphers: Probe = {
  id: 'tls.ciphers',
  title: 'TLS 1.2 suites without forward secrecy or without AEAD refused',
  severity: 'medium',
  reference: 'ASVS 5.0 V12.1.2; OWASP Transport Layer Security Cheat Sheet: Cipher Suites',
  fix: 'Offer only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 for TLS 1.2 (TLS 1.3 suites are all fine).',
  applies: needsTls,
  budget: (plan) => budgetOf(plan, { upgrades: WEAK_SUITES.length, bytes: WEAK_SUITES.length * 2_048, ms: 15_000 }),
  run: async (ctx) => {
    if (!ctx.run.host.tlsClient.cipherSelection)
      return verdict(
        'not-applicable',
        `this runtime's TLS client (${ctx.run.host.runtime}) cannot choose its suites: run the audit on Node or Bun to check them`,
      );
    const lines: string[] = [];
    let accepted = false;
    let ignored = false;
    let unknown = false;
    for (const group of WEAK_SUITES) {
      const h = await handshake(ctx, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: group.list });
      if (h.ok) {
        const offered = h.cipher !== null && group.list.split(':').includes(h.cipher);
        if (offered) accepted = true;
        else ignored = true;
        lines.push(
          `suites ${group.name} → ${offered ? `accepted: ${h.cipher}` : `the client negotiated ${h.cipher} instead (not offered)`}`,
        );
      } else {
        unknown = unknown || !h.refused;
        lines.push(`suites ${group.name} → refused (${h.code})`);
      }
    }
    if (accepted) return verdict('fail', ...lines);
    if (ignored) return verdict('not-applicable', ...lines, 'this runtime ignored the offered suites');
    return unknown ? verdict('error', ...lines) : verdict('pass', ...lines);
  },
};

const DAY = 86_400_000;

export const tlsCertificate: Probe = {
  id: 'tls.certificate',
  title: 'The certificate is valid for the host and trusted',
  severity: 'high',
  reference: 'ASVS 5.0 V12.2.2; RFC 6125',
  fix: 'Serve a certificate from a trusted CA that names the host and renew it well before it expires (pass --ca for a private CA).',
  applies: needsTls,
  budget: (plan) => budgetOf(plan, { upgrades: 1, bytes: 2_048, ms: 8_000 }),
  run: async (ctx) => {
    const conn = await ctx.connect({ verify: false });
    const session = conn.socket.tls;
    conn.destroy();
    const cert = session?.certificate;
    const subject = cert
      ? `subject ${cert.subject || '(none)'}; issuer ${cert.issuer || '(none)'}; valid to ${cert.validTo}`
      : 'no certificate';
    if (!session?.authorized) return verdict('fail', `not trusted: ${session?.authorizationError ?? 'unknown reason'}`, subject);
    const daysLeft = cert ? Math.floor((Date.parse(cert.validTo) - Date.now()) / DAY) : Number.NaN;
    if (Number.isFinite(daysLeft) && daysLeft < 14) return verdict('warn', `trusted, but expires in ${daysLeft} day(s)`, subject);
    return verdict(
      'pass',
      `trusted and valid for ${ctx.target.host}${Number.isFinite(daysLeft) ? ` (${daysLeft} days left)` : ''}`,
      subject,
    );
  },
};

const YEAR_SECONDS = 31_536_000;

export const tlsHsts: Probe = {
  id: 'tls.hsts',
  title: 'HSTS on the HTTP side (Strict-Transport-Security, max-age ≥ 1 year)',
  severity: 'low',
  reference: 'ASVS 5.0 V3.4.1; RFC 6797',
  fix: 'Send Strict-Transport-Security: max-age=31536000; includeSubDomains on every HTTPS response.',
  applies: needsTls,
  budget: (plan) => budgetOf(plan, { upgrades: 1, bytes: 2_048, ms: 8_000 }),
  run: async (ctx) => {
    const conn = await ctx.connect();
    const response = await httpExchange(conn, { method: 'GET', path: '/', host: ctx.target.hostHeader }, 5_000);
    conn.destroy();
    if (response === undefined) return verdict('error', 'GET / got no complete answer in 5 s');
    const header = response.headers['strict-transport-security'];
    if (header === undefined) return verdict('fail', `GET / → ${response.status} without Strict-Transport-Security`);
    const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(header)?.[1] ?? Number.NaN);
    const line = `GET / → ${response.status}, Strict-Transport-Security: ${header.slice(0, 100)}`;
    return Number.isFinite(maxAge) && maxAge >= YEAR_SECONDS ? verdict('pass', line) : verdict('warn', line, 'max-age under a year');
  },
};
