import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, helpText, loadConfig, optionSpecs, type Config, type OptionName } from '../../src/config/index.ts';
import { optionSamples, type OptionSample, type SampledOption } from './config-samples.ts';

type Env = Record<string, string | undefined>;

function config(argv: string[] = [], env: Env = {}): Config {
  const result = loadConfig(argv, env);
  assert.equal(result.kind, 'config');
  if (result.kind !== 'config') throw new Error('unreachable');
  return result.config;
}

function configError(argv: string[], env: Env = {}): ConfigError {
  try {
    const result = loadConfig(argv, env);
    assert.fail(`expected a ConfigError for ${JSON.stringify(argv)} ${JSON.stringify(env)}, got ${JSON.stringify(result)}`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error;
  }
}

function assertNamesFlag(error: ConfigError, flag: string): void {
  assert.equal(error.option, flag);
  assert.equal(error.name, 'ConfigError');
  assert.ok(error.message.includes(`--${flag}`), `message must name --${flag}: ${error.message}`);
  assert.ok(!/[\r\n]/.test(error.message), `message must be ONE line: ${JSON.stringify(error.message)}`);
}

describe('loadConfig: defaults', () => {
  it('no flags, no env → every documented default', () => {
    assert.deepEqual(config(), {
      config: undefined,
      namespaces: {
        chat: {
          historySize: 100,
          historyTtl: 300_000,
          historyMetaTtl: 86_400_000,
          recovery: true,
          presence: true,
          joinLeave: true,
          proxy: 'off',
        },
      },
      port: 8080,
      host: '127.0.0.1',
      tls: false,
      cert: './cert.pem',
      key: './key.pem',
      authVerifyUrl: undefined,
      authVerifySecret: undefined,
      ticketTtl: 30_000,
      sessionTtl: 30 * 60_000,
      sessionMaxAge: 8 * 3_600_000,
      publicOrigin: undefined,
      authTimeout: 5_000,
      verifyTimeout: 2_000,
      maxAuthFrame: 4096,
      maxMessage: 65_536,
      demoUsers: 'demo:demo,alice:alice',
      logLevel: 'info',
      logFormat: 'json',
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
      metricsToken: undefined,
      allowedOrigins: 'self',
      allowMissingOrigin: true,
      maxConnections: 20_000,
      maxConnectionsPerIp: 256,
      upgradeRate: { perSecond: 20, burst: 60 },
      messageRate: { perSecond: 50, burst: 100 },
      maxConnectionsPerUser: 16,
      maxBuffered: 1_048_576,
      heartbeatInterval: 30_000,
      heartbeatTimeout: 10_000,
      sessionWarning: 60_000,
      maxVerifications: 256,
      breakerThreshold: 5,
      breakerCooldown: 10_000,
      loginRate: { perSecond: 0.2, burst: 10 },
      ticketRate: { perSecond: 1, burst: 20 },
      drainTimeout: 10_000,
      adminToken: undefined,
      redisUrl: undefined,
      maxChannels: 32,
      presenceLease: 15_000,
      trustProxy: undefined,
      apiKey: undefined,
      apiPort: undefined,
      apiHost: '127.0.0.1',
      apiMaxBody: 262_144,
      hookRpcUrl: undefined,
      hookSubscribeUrl: undefined,
      hookPublishUrl: undefined,
      hookSecret: undefined,
      hookTimeout: 2_000,
      hookMaxInFlight: 256,
      hookBreakerThreshold: 5,
      hookBreakerCooldown: 10_000,
      rpcRate: { perSecond: 10, burst: 20 },
    });
  });

  it('unrelated environment variables are ignored', () => {
    assert.equal(config([], { HOME: '/root', PATH: '/bin', port: '1' }).port, 8080);
  });
});

describe('loadConfig: precedence flag > env > default', () => {
  it('port', () => {
    assert.equal(config([], {}).port, 8080);
    assert.equal(config([], { PORT: '9000' }).port, 9000);
    assert.equal(config(['--port', '7000'], { PORT: '9000' }).port, 7000);
    assert.equal(config(['--port=7001'], { PORT: '9000' }).port, 7001);
  });

  it('every option: env overrides default and the flag overrides env', () => {
    assert.deepEqual(
      Object.keys(optionSamples).sort(),
      Object.keys(optionSpecs)
        .filter((k) => k !== 'config')
        .sort(),
      'a sample for every option',
    );
    for (const [name, [envValue, flagValue, envParsed, flagParsed]] of Object.entries(optionSamples) as [SampledOption, OptionSample][]) {
      const s = optionSpecs[name];
      const env = { [s.env]: envValue };
      assert.deepEqual(config([], env)[name], envParsed, `${name} from ${s.env}`);
      const argv = s.kind === 'boolean' ? [`--${s.flag}=${flagValue}`] : [`--${s.flag}`, flagValue];
      assert.deepEqual(config(argv, env)[name], flagParsed, `${name} from --${s.flag}`);
    }
  });

  it('boolean flag forms: --tls, --no-tls, --tls=false, env TLS', () => {
    assert.equal(config(['--tls']).tls, true);
    assert.equal(config(['--no-tls'], { TLS: 'true' }).tls, false);
    assert.equal(config(['--tls=false'], { TLS: 'true' }).tls, false);
    for (const [raw, value] of [
      ['1', true],
      ['yes', true],
      ['ON', true],
      ['0', false],
      ['no', false],
      ['off', false],
    ] as const) {
      assert.equal(config([], { TLS: raw }).tls, value, raw);
    }
  });

  // Regression: a boolean flag's value goes through the same schema as its env var (--tls=0 is off).
  it('boolean flag values parse like the env var', () => {
    for (const raw of ['0', 'no', 'off']) assert.equal(config([`--tls=${raw}`], { TLS: 'true' }).tls, false, `--tls=${raw}`);
    for (const raw of ['1', 'yes', 'on']) assert.equal(config([`--tls=${raw}`]).tls, true, `--tls=${raw}`);
    for (const raw of ['maybe', '2']) assertNamesFlag(configError([`--tls=${raw}`]), 'tls');
  });

  // Regression: `--tls false` must not read as true, and stray words are rejected.
  it('`--tls false` is never read as tls=true', () => {
    let result: boolean | ConfigError;
    try {
      result = config(['--tls', 'false']).tls;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      result = error;
    }
    assert.notEqual(result, true, '`--tls false` turned TLS on');
    if (result instanceof ConfigError) assert.ok(!/[\r\n]/.test(result.message));
  });

  // Regression: an empty value (PORT= from .env files) falls back to the default.
  it('an empty value for an option with a default is not undefined', () => {
    for (const [argv, env] of [
      [[], { PORT: '' }],
      [['--port='], {}],
    ] as [string[], Env][]) {
      let port: unknown;
      try {
        port = config(argv, env).port;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        assertNamesFlag(error, 'port');
        continue;
      }
      assert.equal(port, 8080, `${JSON.stringify(argv)} ${JSON.stringify(env)}`);
    }
  });
});

describe('loadConfig: bad values → one-line ConfigError naming the flag', () => {
  const bad: Record<OptionName, string[]> = {
    config: [], // a path: any non-empty text (config-file.test.ts covers unreadable and bad files)
    port: ['abc', '65536', '1.5', '-', ' '.repeat(2) + 'x'],
    host: ['a b', 'host/name', 'x'.repeat(256), 'h;rm'],
    tls: ['maybe', '2'],
    cert: [],
    key: [],
    authVerifyUrl: ['ftp://x.example', 'not a url', 'javascript:alert(1)'],
    authVerifySecret: ['short', 'x'.repeat(513)],
    ticketTtl: ['10x', '50ms', '11m', '1d', 's'],
    sessionTtl: ['999ms', '31d', 'forever'],
    sessionMaxAge: ['999ms', '401d', 'always'],
    publicOrigin: [' ', 'x'.repeat(8_193)],
    authTimeout: ['99ms', '2m', 'abc'],
    verifyTimeout: ['49ms', '31s', '1e3'],
    maxAuthFrame: ['255', '65537', '1.5KiB', '4KB', '1GiB'],
    maxMessage: ['255', '17MiB', 'lots'],
    demoUsers: ['ab', 'd'.repeat(65_537)],
    logLevel: ['verbose', 'INFO!', 'log'],
    logFormat: ['text', 'PRETTY', 'yaml'],
    metricsPort: ['65536', 'on', 'none', '1.5'],
    metricsHost: ['a b', 'host/name'],
    metricsToken: ['short', 'x'.repeat(513), `${'m'.repeat(32)};`],
    allowedOrigins: [' ', 'x'.repeat(8_193)],
    allowMissingOrigin: ['perhaps'],
    maxConnections: ['0', 'many', '1.5'],
    maxConnectionsPerIp: ['0', '-1'.slice(1) + 'x'],
    upgradeRate: ['20', '20/s', '0/s,5', '5/s,0', '5/m,10'],
    messageRate: ['fast', '50/s,', '/s,100'],
    maxConnectionsPerUser: ['0', '100001'],
    maxBuffered: ['1023', '1GiB'],
    heartbeatInterval: ['999ms', '2h'],
    heartbeatTimeout: ['499ms', 'x'],
    sessionWarning: ['2h', 'soon'],
    maxVerifications: ['0', 'lots'],
    breakerThreshold: ['0', '1001'],
    breakerCooldown: ['99ms', '11m'],
    loginRate: ['0.2/s', 'slow'],
    ticketRate: ['1/s,0', 'x'],
    drainTimeout: ['11m', 'later'],
    adminToken: ['short', 'x'.repeat(513), `${'x'.repeat(32)} with spaces`, `${'x'.repeat(32)}!"`],
    redisUrl: [
      'http://127.0.0.1:6379',
      'not a url',
      'redis+cluster://',
      'redis+cluster://h:99999',
      'redis+cluster://h:7000/0',
      'redis+cluster://a b:7000',
      'redis+cluster://h:1,,h:2',
    ],
    maxChannels: ['0', '10001'],
    presenceLease: ['100ms', '11m', 'soon'],
    trustProxy: ['proxy.example', '10.0.0.1/8'],
    apiKey: ['short', `${'a'.repeat(32)},short`, `${'a'.repeat(32)},`, Array.from({ length: 17 }, () => 'k'.repeat(32)).join(',')],
    apiPort: ['65536', 'off', '1.5'],
    apiHost: ['a b', 'host/name'],
    apiMaxBody: ['1023', '65MiB', 'big'],
    hookRpcUrl: ['ftp://x.example', 'not a url'],
    hookSubscribeUrl: ['javascript:alert(1)'],
    hookPublishUrl: ['file:///etc/passwd'],
    hookSecret: ['short', `${'x'.repeat(32)} with spaces`],
    hookTimeout: ['49ms', '31s'],
    hookMaxInFlight: ['0', 'many'],
    hookBreakerThreshold: ['0', '1001'],
    hookBreakerCooldown: ['99ms', '11m'],
    rpcRate: ['fast', '0/s,1'],
  };

  for (const [name, values] of Object.entries(bad) as [OptionName, string[]][]) {
    const s = optionSpecs[name];
    for (const value of values) {
      it(`--${s.flag} ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)} (flag and env)`, () => {
        // Boolean flag values are covered by the dedicated (failing) test below; a leading '-'
        // value would be read as a flag name, also covered below.
        if (s.kind !== 'boolean' && !value.startsWith('-')) assertNamesFlag(configError([`--${s.flag}`, value]), s.flag);
        assertNamesFlag(configError([], { [s.env]: value }), s.flag);
      });
    }
  }

  it('cert/key accept any non-empty path (no bad value other than empty)', () => {
    assert.equal(config(['--cert', 'a b/ç.pem']).cert, 'a b/ç.pem');
  });

  it('the first bad option is reported even when others are fine', () => {
    assertNamesFlag(configError(['--port', '80', '--log-level', 'nope']), 'log-level');
  });

  // Regression: control characters in a value cannot make the error span lines.
  it('a value containing a newline still gives a ONE line message', () => {
    assertNamesFlag(configError(['--log-level', 'warn\nFAKE LOG LINE']), 'log-level');
    assertNamesFlag(configError([], { HOST: 'a\r\nb' }), 'host');
  });
});

describe('loadConfig: unknown flags and help', () => {
  /** An unknown token: one line that quotes it as typed, not an "invalid option" of a flag that does not exist. */
  function assertUnknown(error: ConfigError, token: string): void {
    assert.equal(error.option, null);
    assert.ok(error.message.includes(`"${token}"`), `message must quote ${token}: ${error.message}`);
    assert.ok(!/[\r\n]/.test(error.message), `message must be ONE line: ${JSON.stringify(error.message)}`);
  }

  it('an unknown long flag → ConfigError quoting it', () => {
    const error = configError(['--bogus']);
    assertUnknown(error, '--bogus');
    assert.match(error.message, /unknown option/);
    assertUnknown(configError(['--port', '80', '--verify-timeouts=1s']), '--verify-timeouts');
  });

  it('a short flag → says options are long, and names the one a unique letter stands for', () => {
    assertUnknown(configError(['-x']), '-x');
    const error = configError(['-p', '80']);
    assertUnknown(error, '-p');
    assert.match(error.message, /did you mean --port\?/);
  });

  it('a stray word → unexpected argument', () => {
    const error = configError(['8080']);
    assertUnknown(error, '8080');
    assert.match(error.message, /unexpected argument/);
  });

  it('--no-<flag> exists only for booleans', () => {
    assertUnknown(configError(['--no-port']), '--no-port');
  });

  it('--help and -h → kind help, even next to bad options', () => {
    assert.deepEqual(loadConfig(['--help'], {}), { kind: 'help' });
    assert.deepEqual(loadConfig(['-h'], {}), { kind: 'help' });
    assert.deepEqual(loadConfig(['--port', 'nope', '--help'], { LOG_LEVEL: 'bad' }), { kind: 'help' });
  });
});

describe('loadConfig: secrets are never echoed', () => {
  const SECRET_SHORT = 'Zq9SecretValueXYZ'; // < 32 chars: invalid for --auth-verify-secret
  const SECRET_LONG = 'Qw'.repeat(300); // > 512 chars

  it('--auth-verify-secret: bad value (flag or env) is not in the message', () => {
    for (const [argv, env] of [
      [['--auth-verify-secret', SECRET_SHORT], {}],
      [[`--auth-verify-secret=${SECRET_SHORT}`], {}],
      [[], { AUTH_VERIFY_SECRET: SECRET_SHORT }],
      [['--auth-verify-secret', SECRET_LONG], {}],
    ] as [string[], Env][]) {
      const error = configError(argv, env);
      assertNamesFlag(error, 'auth-verify-secret');
      assert.ok(!error.message.includes('Zq9Secret'), error.message);
      assert.ok(!error.message.includes('QwQw'), error.message);
    }
  });

  it('--demo-users: bad value (flag or env) is not in the message', () => {
    for (const [argv, env] of [
      [['--demo-users', 'Zq'], {}],
      [[], { DEMO_USERS: 'Zq' }],
      [['--demo-users', 'Qw'.repeat(40_000)], {}],
    ] as [string[], Env][]) {
      const error = configError(argv, env);
      assertNamesFlag(error, 'demo-users');
      assert.ok(!error.message.includes('Zq'), error.message);
      assert.ok(!error.message.includes('QwQw'), error.message);
    }
  });

  // Regression: a secret value starting with '-' is a value, not a flag name to echo.
  it('a secret value starting with "-" is never echoed', () => {
    const secret = `-Zq${'k'.repeat(40)}`;
    for (const argv of [
      ['--auth-verify-secret', secret],
      ['--demo-users', '-Zqalice:pw'],
    ]) {
      let message = '';
      try {
        loadConfig(argv, {});
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        message = error.message;
      }
      assert.ok(!message.includes('Zq'), `secret echoed: ${message}`);
    }
  });

  it('non-secret values are quoted back (bounded to 80 characters)', () => {
    const error = configError(['--log-level', 'verbose']);
    assert.ok(error.message.includes('"verbose"'), error.message);
    const long = configError(['--host', `${'h'.repeat(100)} x`]);
    assert.ok(!long.message.includes('h'.repeat(81)), long.message);
  });
});

describe('loadConfig: units', () => {
  it('durations: ms, s, m, h; a bare number is seconds', () => {
    const cases: [string, number][] = [
      ['500ms', 500],
      ['30s', 30_000],
      ['2m', 120_000],
      ['45', 45_000],
      ['1.5s', 1_500],
      ['0.5m', 30_000],
      [' 10s ', 10_000],
      ['100ms', 100],
      ['600s', 600_000],
    ];
    for (const [raw, ms] of cases) assert.equal(config(['--ticket-ttl', raw]).ticketTtl, ms, raw);
    assert.equal(config(['--session-ttl', '1h']).sessionTtl, 3_600_000);
  });

  it('durations: units are case-sensitive and need digits', () => {
    for (const raw of ['30S', '2M', 'ms', '.5s', '1 s', '1s1', '1e2']) {
      assertNamesFlag(configError(['--ticket-ttl', raw]), 'ticket-ttl');
    }
  });

  it('sizes: bytes, KiB, MiB (case-insensitive units)', () => {
    const cases: [string, number][] = [
      ['4096', 4096],
      ['64KiB', 65_536],
      ['1MiB', 1_048_576],
      ['64kib', 65_536],
      ['512B', 512],
      ['16MiB', 16 * 1_048_576],
    ];
    for (const [raw, bytes] of cases) assert.equal(config(['--max-message', raw]).maxMessage, bytes, raw);
    assert.equal(config(['--max-auth-frame', '256']).maxAuthFrame, 256);
    assert.equal(config(['--max-auth-frame', '64KiB']).maxAuthFrame, 65_536);
  });
});

describe('helpText', () => {
  const text = helpText('hardened-ws');

  it('starts with a usage line naming the command', () => {
    assert.equal(text.split('\n')[0], 'Usage: hardened-ws [options]');
  });

  it('lists every flag and environment variable in optionSpecs, one line each', () => {
    const lines = text.split('\n');
    for (const s of Object.values(optionSpecs)) {
      const line = lines.find((l) => new RegExp(`^\\s+--${s.flag}(\\s|$)`).test(l));
      assert.ok(line !== undefined, `--${s.flag} missing from help`);
      assert.ok(line.split(/\s+/).includes(s.env), `${s.env} missing from the --${s.flag} line`);
      assert.ok(line.includes(s.help), `help text of --${s.flag} missing`);
    }
    assert.ok(
      lines.some((l) => /^\s+--help\b/.test(l)),
      '--help itself is listed',
    );
  });

  it('shows non-secret defaults and never a secret option default', () => {
    assert.ok(text.includes('(default: 8080)'));
    assert.ok(text.includes('(default: 30s)'));
    for (const s of Object.values(optionSpecs)) {
      if (!('secret' in s) || !s.secret || s.default === undefined) continue;
      const line = text.split('\n').find((l) => l.includes(`--${s.flag} `))!;
      assert.ok(!line.includes(`(default: ${s.default})`), `secret default shown for --${s.flag}`);
    }
  });
});
