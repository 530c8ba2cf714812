/** The audit's pure parts: frames, the deflate bomb, look-alike origins, the command line, scrubbing, probe data. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { parseAuditArgs } from '../../src/audit/argv.ts';
import { BudgetError, ProbeContext, type RunState } from '../../src/audit/context.ts';
import { Credentials } from '../../src/audit/credential.ts';
import type { AuditHost } from '../../src/audit/host.ts';
import { withDefaults } from '../../src/audit/options.ts';
import { deflateBomb } from '../../src/audit/deflate-bomb.ts';
import { buildFrame, frameHeader, frameSize, maskFrom, Opcode, parseFrame, RSV1, RSV2, RSV3 } from '../../src/audit/frames.ts';
import { lookalikes } from '../../src/audit/probes/origin.ts';
import { probes } from '../../src/audit/probes/index.ts';
import { selectProbes } from '../../src/audit/runner.ts';
import { scrub } from '../../src/audit/scrub.ts';
import { resolveTarget, UsageError } from '../../src/audit/target.ts';

const ids = probes.map((p) => p.id);

describe('audit frames', () => {
  it('a masked frame round-trips through the parser, for each length form', () => {
    for (const length of [0, 125, 126, 65_535, 65_536]) {
      const payload = new Uint8Array(length).map((_, i) => i & 0xff);
      const frame = buildFrame({ opcode: Opcode.binary, payload });
      assert.equal(frameSize(frame.subarray(0, 14)), frame.length);
      const parsed = parseFrame(frame)!;
      assert.equal(parsed.size, frame.length);
      assert.deepEqual(parsed.frame.payload, payload);
    }
  });

  it('a payload masked in pieces (maskFrom with offsets) equals one masked whole', () => {
    const payload = new Uint8Array(1_000).map((_, i) => (i * 7) & 0xff);
    const { header, key } = frameHeader({ opcode: Opcode.text, length: payload.length });
    const pieces = [maskFrom(payload.subarray(0, 333), key, 0), maskFrom(payload.subarray(333), key, 333)];
    const joined = new Uint8Array([...header, ...pieces[0]!, ...pieces[1]!]);
    assert.deepEqual(parseFrame(joined)!.frame.payload, payload);
  });

  it('declares any length in the form asked for: 2^63 (a bigint, the MSB RFC 6455 forbids), or a non-minimal form', () => {
    const huge = buildFrame({ opcode: Opcode.text, declaredLength: 2n ** 63n, payload: 'abc', mask: false });
    assert.deepEqual([...huge.subarray(0, 10)], [0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(huge.length, 10 + 3, 'only the real payload follows');
    const big53 = frameHeader({ opcode: Opcode.text, length: 2 ** 53, mask: false }).header;
    assert.deepEqual([...big53], [0x81, 127, 0, 0x20, 0, 0, 0, 0, 0, 0]);
    const long64 = frameHeader({ opcode: Opcode.binary, length: 5, lengthForm: 64, mask: false }).header;
    assert.deepEqual([...long64], [0x82, 127, 0, 0, 0, 0, 0, 0, 0, 5]);
    const long16 = frameHeader({ opcode: Opcode.binary, length: 5, lengthForm: 16, mask: false }).header;
    assert.deepEqual([...long16], [0x82, 126, 0, 5]);
    assert.throws(() => frameHeader({ opcode: Opcode.text, length: 126, lengthForm: 7 }), RangeError);
    assert.throws(() => frameHeader({ opcode: Opcode.text, length: 65_536, lengthForm: 16 }), RangeError);
    assert.throws(() => frameHeader({ opcode: Opcode.text, length: 2n ** 64n }), RangeError);
    assert.throws(() => frameHeader({ opcode: Opcode.text, length: -1 }), RangeError);
  });

  it('sets each reserved bit on its own', () => {
    for (const [rsv, bit] of [
      [RSV1, 0x40],
      [RSV2, 0x20],
      [RSV3, 0x10],
    ] as const) {
      const frame = buildFrame({ opcode: Opcode.text, rsv, payload: 'x' });
      assert.equal(frame[0], 0x80 | bit | Opcode.text);
      assert.equal(parseFrame(frame)!.frame.rsv, rsv);
    }
  });

  it('masks every frame with its own key, also across refills of the key pool', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const frame = buildFrame({ opcode: Opcode.text, payload: `message ${i}` });
      keys.add(Buffer.from(frame.subarray(2, 6)).toString('hex'));
      assert.equal(new TextDecoder().decode(parseFrame(frame)!.frame.payload), `message ${i}`);
    }
    assert.ok(keys.size > 9_990, `${keys.size} distinct keys in 10,000 frames`);
  });

  it('refuses an absurd length from a server instead of allocating it', () => {
    const head = new Uint8Array([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert.throws(() => frameSize(head), /absurd frame length/);
  });
});

describe('audit deflate bomb', () => {
  it('inflates (with the 00 00 FF FF a receiver appends) to the size asked for, all zeros, at about 1:160', () => {
    const size = 4 * 1024 * 1024;
    const bomb = deflateBomb(size);
    const inflated = inflateRawSync(Buffer.concat([bomb, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: 2 });
    assert.ok(inflated.length > size - 258 && inflated.length <= size, `inflated ${inflated.length}`);
    assert.ok(inflated.every((b) => b === 0));
    assert.ok(bomb.length < size / 150, `compressed ${bomb.length}`);
  });
});

describe('audit origins and targets', () => {
  it('look-alikes of an origin: prefix, subdomain, suffix, other scheme, other port; never the origin itself', () => {
    const own = 'https://app.example.com';
    const list = lookalikes(own);
    assert.deepEqual(list, [
      'https://app.example.com.evil.example',
      'https://evilapp.example.com',
      'http://app.example.com',
      'https://app.example.com:8443',
    ]);
    assert.ok(!list.includes(own));
    assert.ok(lookalikes('http://127.0.0.1:8080').includes('http://127.0.0.1:8081'));
  });

  it('resolves ws/wss URLs; the own Origin follows the scheme; credentials in the URL and other schemes are usage errors', () => {
    const t = resolveTarget({ url: 'wss://example.com/ws?x=1' });
    assert.deepEqual(
      [t.host, t.port, t.path, t.ownOrigin, t.secure, t.loopback],
      ['example.com', 443, '/ws?x=1', 'https://example.com', true, false],
    );
    const v6 = resolveTarget({ url: 'ws://[::1]:9000/', origin: 'http://localhost:3000/path' });
    assert.deepEqual([v6.host, v6.hostHeader, v6.ownOrigin, v6.loopback], ['::1', '[::1]:9000', 'http://localhost:3000', true]);
    for (const url of ['http://example.com/', 'ws://user:pw@example.com/', 'not a url'])
      assert.throws(() => resolveTarget({ url }), UsageError);
    assert.throws(() => resolveTarget({ url: 'ws://x/', origin: 'null' }), UsageError);
  });
});

describe('audit command line', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => parseAuditArgs(argv, env, ids);

  it('one credential at a time; --login takes the password from HWS_AUDIT_PASSWORD when omitted', () => {
    const login = parse(['ws://x/', '--login', 'alice'], { HWS_AUDIT_PASSWORD: 'pw' });
    assert.deepEqual(login.kind === 'run' && login.options.credential, { kind: 'login', username: 'alice', password: 'pw' });
    const colon = parse(['ws://x/', '--login=bob:a:b']);
    assert.deepEqual(colon.kind === 'run' && colon.options.credential, { kind: 'login', username: 'bob', password: 'a:b' });
    assert.throws(() => parse(['ws://x/', '--login', 'alice']), /needs a password/);
    const header = parse(['ws://x/', '--header', 'Authorization: Bearer -x']);
    assert.deepEqual(header.kind === 'run' && header.options.credential, { kind: 'header', name: 'Authorization', value: 'Bearer -x' });
    assert.throws(() => parse(['ws://x/', '--header', 'no colon']), /Name: value/);
  });

  it('a value may start with "-"; units are the server\'s; usage errors never echo a value', () => {
    const run = parse(['ws://x/', '--ticket-cmd', '-c echo t', '--timeout', '1500ms', '--flood-bytes', '2MiB']);
    assert.ok(run.kind === 'run');
    assert.equal(run.options.timeoutMs, 1_500);
    assert.equal(run.options.floodBytes, 2 * 1024 * 1024);
    for (const argv of [
      ['ws://x/', '--login'],
      ['ws://x/', '--origin', 'a', '--origin', 'b'],
      ['ws://x/', 'ws://y/'],
      ['ws://x/', '-v'],
    ]) {
      assert.throws(() => parse(argv), UsageError);
    }
    try {
      parse(['ws://x/', '--max-connections', 'secret-ish-value']);
      assert.fail('expected a usage error');
    } catch (error) {
      assert.ok(!(error as Error).message.includes('secret-ish-value'), (error as Error).message);
    }
  });

  it('--only takes ids and groups, and refuses unknown ones', () => {
    assert.deepEqual(
      selectProbes(['origin']).map((p) => p.id),
      ['origin.foreign', 'origin.null', 'origin.lookalike', 'origin.missing'],
    );
    assert.deepEqual(
      selectProbes(['tls.hsts', 'slow-reader']).map((p) => p.id),
      ['tls.hsts', 'slow-reader'],
    );
    assert.throws(() => parse(['ws://x/', '--only', 'origin,nope']), /no probe "nope"/);
  });
});

describe('audit probe data', () => {
  it('every probe has a unique id, a severity, a reference and a one-line fix', () => {
    assert.equal(new Set(ids).size, ids.length);
    for (const p of probes) {
      assert.ok(['high', 'medium', 'low', 'info'].includes(p.severity), p.id);
      assert.ok(p.reference.length > 5 && p.title.length > 5, p.id);
      assert.ok(p.fix.length > 10 && !p.fix.includes('\n'), p.id);
    }
  });

  it('scrub replaces every secret seen, wherever it appears in a line', () => {
    assert.equal(
      scrub('close 4401 "bad ticket abcd1234" (abcd1234)', new Set(['abcd1234'])),
      'close 4401 "bad ticket [redacted]" ([redacted])',
    );
  });
});

describe('audit budgets', () => {
  it("a write past the probe's byte budget is refused and recorded; a connection past it throws", async () => {
    const written: number[] = [];
    const host: AuditHost = {
      runtime: 'fake',
      tlsClient: { legacyVersions: true, cipherSelection: true, pauseStopsReading: true },
      connect: async () => ({
        tls: null,
        write: async (b) => (written.push(b.length), true),
        pause() {},
        resume() {},
        end() {},
        destroy() {},
      }),
      runCommand: async () => ({ exitCode: 0, stdout: '' }),
      readTextFile: async () => '',
      writeTextFile: async () => {},
      writeStdout: async () => {},
      writeStderr: () => {},
      stderrIsTerminal: false,
    };
    const options = withDefaults({ url: 'ws://127.0.0.1:1/ws', connectRate: 1_000 });
    const target = resolveTarget(options);
    const run: RunState = {
      host,
      target,
      options,
      credentials: new Credentials(options.credential, { host, target, remember: () => {} }),
      totals: { connections: 0, bytes: 0 },
      retriesLeft: 0,
      nextConnectAt: 0,
      secrets: new Set(),
    };
    const ctx = new ProbeContext(run, { connections: 1, bytes: 100, ms: 1_000 });
    const conn = await ctx.connect();
    assert.equal(await conn.write(new Uint8Array(80)), true);
    assert.equal(await conn.write(new Uint8Array(30)), false, 'over the byte budget');
    assert.deepEqual(written, [80], 'the refused write never reached the socket');
    assert.match(ctx.overrun ?? '', /byte budget \(100\)/);
    await assert.rejects(ctx.connect(), BudgetError);
    assert.deepEqual(run.totals, { connections: 1, bytes: 80 });
  });
});

describe('audit docs', () => {
  it('docs/audit.md describes every probe', () => {
    const doc = readFileSync(new URL('../../docs/audit.md', import.meta.url), 'utf8');
    for (const id of ids) assert.ok(doc.includes(`| \`${id}\` |`), `docs/audit.md lacks ${id}`);
  });
});
