/**
 * `hardened-ws audit` against naive targets written for these tests: each gets exactly the
 * findings its missing defence deserves (no false passes, no false fails), targets that are down
 * or broken get a clear error in a bounded run, and the command line answers usage errors with
 * one line and exit 2. The audit runs as `node dist/index.js audit` (run `npm run build` first).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Status } from '../../src/audit/finding.ts';
import { testCerts } from '../support/certs.ts';
import type { FixtureOptions } from './fixtures/naive-server.ts';
import { assertWithinBound, deadPort, expectStatuses, runAuditCli, startFixture, statuses, type Fixture } from './support.ts';

/** Short waits and fast pacing: the fixtures are on loopback and answer within milliseconds. */
const FAST = ['--json', '--timeout', '3s', '--settle', '500ms', '--connect-rate', '200'];

/** Every defence on: the reference the naive fixtures each take one away from. */
const HARDENED: FixtureOptions = {
  originCheck: true,
  auth: 'ticket',
  authDeadlineMs: 1_000,
  idleMs: 2_000,
  maxPayload: 64 * 1024,
  rate: 50,
  maxBuffered: 256 * 1024,
  strictHandshake: true,
};

const PLAIN_NA: Record<string, Status> = {
  'transport.tls': 'not-applicable',
  'tls.certificate': 'not-applicable',
  'tls.versions': 'not-applicable',
  'tls.ciphers': 'not-applicable',
  'tls.hsts': 'not-applicable',
  'deflate.bomb': 'not-applicable',
};
const NO_TICKET_NA: Record<string, Status> = { 'auth.replay': 'not-applicable', 'auth.ticket-origin': 'not-applicable' };

const ticketCmd = (fixture: Fixture, scheme = 'http') => [
  '--ticket-cmd',
  `"${process.execPath}" test/audit/fixtures/ticket.mjs ${scheme}://127.0.0.1:${fixture.port}`,
];

interface Case {
  readonly name: string;
  readonly fixture: FixtureOptions;
  readonly args: (f: Fixture) => string[];
  readonly expect: Record<string, Status>;
  readonly env?: Record<string, string>;
}

const certs = testCerts();
const readPem = (file: string) => readFileSync(file, 'utf8');

const cases: Case[] = [
  { name: 'every defence on: every probe passes', fixture: HARDENED, args: ticketCmd, expect: PLAIN_NA },
  {
    name: 'a bare ws echo server with defaults',
    fixture: {},
    // No rate limit to stay under: the slow reader may hurry.
    args: () => ['--message-rate', '400'],
    expect: {
      ...PLAIN_NA,
      ...NO_TICKET_NA,
      'auth.deadline': 'fail',
      'idle.timeout': 'fail',
      'origin.foreign': 'fail',
      'origin.null': 'fail',
      'origin.lookalike': 'fail',
      'handshake.target': 'fail',
      'handshake.headers': 'fail',
      'auth.pre-auth': 'fail',
      'message.size': 'fail',
      'message.rate': 'warn',
      'frames.fragment-flood': 'fail',
      'slow-reader': 'warn',
    },
  },
  {
    name: 'no Origin check',
    fixture: { ...HARDENED, originCheck: false },
    args: ticketCmd,
    expect: { ...PLAIN_NA, 'origin.foreign': 'fail', 'origin.null': 'fail', 'origin.lookalike': 'fail' },
  },
  {
    name: 'dispatches before auth',
    fixture: { ...HARDENED, dispatchBeforeAuth: true },
    args: ticketCmd,
    expect: { ...PLAIN_NA, 'auth.pre-auth': 'fail' },
  },
  {
    name: 'no size limit, permessage-deflate on',
    // A send-buffer cap above the largest echo, so the size probes see acceptance, not a slow-reader drop.
    fixture: { ...HARDENED, maxPayload: 0, deflate: true, maxBuffered: 64 * 1024 * 1024 },
    // Its heartbeat counts any message as life, so only a send-buffer cap could stop the slow reader: none up to 2 MiB.
    args: (f) => [...ticketCmd(f), '--flood-bytes', '2MiB'],
    expect: {
      ...PLAIN_NA,
      'deflate.bomb': 'fail',
      'message.size': 'fail',
      'frames.fragment-flood': 'fail',
      'deflate.offered': 'warn',
      'slow-reader': 'warn',
    },
  },
  {
    name: 'TLS 1.0 and CBC suites allowed, no HSTS',
    fixture: { ...HARDENED, tls: { cert: readPem(certs.cert), key: readPem(certs.key), minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' } },
    args: (f) => [...ticketCmd(f, 'https'), '--ca', `${certs.dir}/ca.pem`],
    env: { NODE_EXTRA_CA_CERTS: `${certs.dir}/ca.pem` },
    expect: { 'deflate.bomb': 'not-applicable', 'tls.versions': 'fail', 'tls.ciphers': 'fail', 'tls.hsts': 'fail' },
  },
  {
    name: 'authenticates the handshake with a header (--header)',
    fixture: { ...HARDENED, auth: 'header' },
    args: () => ['--header', 'X-Api-Key: audit-fixture-key'],
    expect: { ...PLAIN_NA, ...NO_TICKET_NA },
  },
];

describe('audit: naive fixtures get exactly their findings', { concurrency: 2 }, () => {
  for (const c of cases) {
    it(c.name, { timeout: 60_000 }, async (t) => {
      const fixture = await startFixture(c.fixture);
      try {
        const run = await runAuditCli('node', [fixture.url, ...FAST, ...c.args(fixture)], { env: c.env });
        assert.ok(run.result, `no JSON report (exit ${run.code}):\n${run.stderr.slice(-2_000)}`);
        t.diagnostic(
          `${Math.round(run.wallMs)} ms; ${run.result.used.connections}/${run.result.bound.connections} connections (target saw ${fixture.connections()})`,
        );
        expectStatuses(run.result, c.expect, c.name);
        assertWithinBound(run, fixture.connections());
        const failing = Object.values(c.expect).some((s) => s === 'fail');
        assert.equal(run.code, failing ? 1 : 0, 'exit status: 1 when something fails, 0 otherwise');
        assert.ok(!`${run.stdout}${run.stderr}`.includes('audit-fixture-key'), 'a credential never appears in the output');
      } finally {
        await fixture.stop();
      }
    });
  }
});

describe('audit: targets that are down or broken end in a clear error, in a bounded run', { concurrency: 2 }, () => {
  it('nothing listening: the baseline is an error (ECONNREFUSED), every probe skipped, exit 1', async () => {
    const port = await deadPort();
    const run = await runAuditCli('node', [`ws://127.0.0.1:${port}/ws`, ...FAST]);
    const r = run.result!;
    assert.equal(run.code, 1);
    assert.equal(statuses(r).baseline, 'error');
    assert.match(r.findings[0]!.evidence.join(' '), /ECONNREFUSED/);
    assert.ok(r.findings.slice(1).every((f) => f.status === 'skipped' || f.status === 'not-applicable'));
    assert.ok(run.wallMs < 10_000);
  });

  for (const [mode, pattern] of [
    ['http200', /200: not a WebSocket endpoint/],
    ['close-immediately', /closed without a response/],
  ] as const) {
    it(`${mode}: the baseline says why, nothing else runs, exit 1`, async () => {
      const fixture = await startFixture({ mode });
      try {
        const run = await runAuditCli('node', [fixture.url, ...FAST]);
        const r = run.result!;
        assert.equal(run.code, 1);
        assert.equal(statuses(r).baseline, 'error');
        assert.match(r.findings[0]!.evidence.join(' '), pattern);
        assert.ok(r.findings.slice(1).every((f) => f.status === 'skipped' || f.status === 'not-applicable'));
        assertWithinBound(run, fixture.connections());
      } finally {
        await fixture.stop();
      }
    });
  }

  it(
    'hang-after-101 (a valid 101, then silence): clear findings, no probe hangs, the run stays bounded',
    { timeout: 90_000 },
    async (t) => {
      const fixture = await startFixture({ mode: 'hang-after-101' });
      try {
        const run = await runAuditCli('node', [fixture.url, ...FAST], { killAfterMs: 85_000 });
        const r = run.result!;
        assert.ok(r, `no report (exit ${run.code}): ${run.stderr.slice(-1_000)}`);
        t.diagnostic(`${Math.round(run.wallMs)} ms: ${JSON.stringify(r.summary)}`);
        assert.equal(run.code, 1);
        const s = statuses(r);
        assert.equal(s.baseline, 'pass');
        assert.equal(s['auth.deadline'], 'fail', 'a socket that is never closed');
        assert.equal(s['origin.foreign'], 'fail', 'every Origin gets the 101');
        for (const id of ['message.size', 'frames.fragment-flood', 'frames.invalid-utf8', 'frames.ping-flood'])
          assert.notEqual(s[id], 'pass', `${id} must not pass against a black hole`);
        assertWithinBound(run, fixture.connections());
      } finally {
        await fixture.stop();
      }
    },
  );
});

describe('audit: safety limits', { concurrency: 2 }, () => {
  it('a target whose handshakes slow down: the run stops, the rest is skipped, exit 1', async (t) => {
    // Slow from the 20th upgrade on: after the baseline and the first probes.
    const fixture = await startFixture({ ...HARDENED, slowAfter: 20, slowMs: 1_500 });
    try {
      const run = await runAuditCli('node', [fixture.url, ...FAST, ...ticketCmd(fixture)]);
      const r = run.result!;
      t.diagnostic(`stopped: ${r.stopped}; ${JSON.stringify(r.summary)}`);
      assert.equal(run.code, 1);
      assert.match(r.stopped ?? '', /looks strained: a control handshake took \d+ ms/);
      assert.match(run.stderr, /stopping: the target looks strained/);
      assert.ok(r.findings.some((f) => f.status === 'skipped' && /not run: the target looks strained/.test(f.evidence[0] ?? '')));
      assert.equal(r.findings.filter((f) => f.status === 'fail').length, 0, 'no false fails from a slow target');
      assertWithinBound(run, fixture.connections());
    } finally {
      await fixture.stop();
    }
  });

  it('--max-connections: probes that do not fit are skipped, and the run stays under the cap', async () => {
    const fixture = await startFixture({});
    try {
      const run = await runAuditCli('node', [fixture.url, ...FAST, '--max-connections', '40']);
      const r = run.result!;
      assert.ok(r.bound.connections <= 40, `bound ${r.bound.connections}`);
      assert.ok(fixture.connections() <= 40, `the target saw ${fixture.connections()}`);
      assert.ok(r.findings.some((f) => f.status === 'skipped' && /--max-connections/.test(f.evidence[0] ?? '')));
      assertWithinBound(run, fixture.connections());
    } finally {
      await fixture.stop();
    }
  });
});

describe('audit: the command line', () => {
  for (const [args, message] of [
    [[], /give the ws:\/\/ or wss:\/\/ URL/],
    [['http://127.0.0.1/'], /must be a ws:\/\/ or wss:\/\/ URL/],
    [['ws://127.0.0.1/', '--nope'], /unknown option "--nope"/],
    [['ws://127.0.0.1/', '--login', 'bob:s3cret-pw', '--header', 'A: b'], /give one credential option/],
    [['ws://127.0.0.1/', '--timeout', 'soon'], /--timeout: expected a duration/],
    [['ws://127.0.0.1/', '--only', 'nosuch'], /--only: no probe "nosuch"/],
    [['ws://127.0.0.1/', '--json=yes'], /--json takes no value/],
  ] as const) {
    it(`${JSON.stringify(args)} → exit 2, one line`, async () => {
      const run = await runAuditCli('node', args);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.ok(!run.stderr.includes('s3cret-pw'), 'a password is never echoed');
    });
  }

  it('--html writes the same report as a page', async () => {
    const fixture = await startFixture({});
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'hws-audit-')), 'report.html');
    try {
      const run = await runAuditCli('node', [fixture.url, '--only', 'origin', '--html', file, '--connect-rate', '200']);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /FAIL\s+origin\.foreign/);
      const html = readFileSync(file, 'utf8');
      assert.match(html, /^<!doctype html>/);
      assert.match(html, /<code>origin\.foreign<\/code>/);
      assert.ok(!/<script/i.test(html));
    } finally {
      await fixture.stop();
    }
  });

  it('--help and --list exit 0', async () => {
    const help = await runAuditCli('node', ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: hardened-ws audit/);
    const list = await runAuditCli('node', ['--list']);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /origin\.foreign\s+high/);
  });
});
