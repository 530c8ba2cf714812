/** The config file: every option settable in it, precedence flag > env > file > default, namespaces, and one-line errors naming the file and key without echoing secrets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadConfigWithFile, optionSpecs, type Config } from '../../src/config/index.ts';
import { optionSamples, type OptionSample, type SampledOption } from './config-samples.ts';

type Env = Record<string, string | undefined>;
const PATH = 'hws.json';

function fromFile(content: unknown, argv: string[] = [], env: Env = {}): Config {
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  const result = loadConfig(['--config', PATH, ...argv], env, { path: PATH, text });
  if (result.kind !== 'config') throw new Error('unexpected help');
  return result.config;
}

function fileError(content: unknown, argv: string[] = []): ConfigError {
  try {
    fromFile(content, argv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.ok(!/[\r\n]/.test(error.message), `ONE line: ${JSON.stringify(error.message)}`);
    assert.ok(error.message.startsWith(`invalid config file ${PATH}: `), error.message);
    return error;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(content)}`);
}

describe('config file: options', () => {
  it('every option can be set in the file by its flag name, parsed as its flag is', () => {
    for (const [name, [, flagValue, , flagParsed]] of Object.entries(optionSamples) as [SampledOption, OptionSample][]) {
      assert.deepEqual(fromFile({ [optionSpecs[name].flag]: flagValue })[name], flagParsed, name);
    }
  });

  it('JSON numbers and booleans are taken as typed', () => {
    const config = fromFile({ port: 9000, tls: true, 'ticket-ttl': 10, 'allow-missing-origin': false, 'max-channels': 8 });
    assert.deepEqual(
      [config.port, config.tls, config.ticketTtl, config.allowMissingOrigin, config.maxChannels],
      [9000, true, 10_000, false, 8],
    );
  });

  it('precedence: flag > environment > file > default', () => {
    assert.equal(fromFile({}).port, 8080);
    assert.equal(fromFile({ port: 9001 }).port, 9001);
    assert.equal(fromFile({ port: 9001 }, [], { PORT: '9002' }).port, 9002);
    assert.equal(fromFile({ port: 9001 }, ['--port', '9003'], { PORT: '9002' }).port, 9003);
    assert.equal(fromFile({ port: 9001 }, [], { PORT: '' }).port, 9001, 'an empty variable is unset');
    assert.equal(fromFile({ 'log-level': 'warn' }, ['--log-level', 'debug']).logLevel, 'debug');
  });

  it('CONFIG names the file like --config; loadConfigWithFile reads it through the given reader', async () => {
    const read: string[] = [];
    const reader = async (path: string) => {
      read.push(path);
      return JSON.stringify({ port: 9100 });
    };
    const viaEnv = await loadConfigWithFile([], { CONFIG: 'from-env.json' }, reader);
    const viaFlag = await loadConfigWithFile(['--config=from-flag.json'], { CONFIG: 'from-env.json' }, reader);
    assert.deepEqual(read, ['from-env.json', 'from-flag.json']);
    assert.equal(viaEnv.kind === 'config' && viaEnv.config.port, 9100);
    assert.equal(viaFlag.kind === 'config' && viaFlag.config.config, 'from-flag.json');
    assert.equal((await loadConfigWithFile(['--help'], { CONFIG: 'x' }, reader)).kind, 'help', '--help reads nothing');
    assert.equal(read.length, 2);
  });

  it('a file that cannot be read: ConfigError on --config', async () => {
    const error = await loadConfigWithFile(['--config', 'missing.json'], {}, async () => {
      throw new Error('ENOENT: no such file');
    }).catch((e: unknown) => e);
    assert.ok(error instanceof ConfigError);
    assert.equal(error.option, 'config');
    assert.equal(error.message, 'invalid option --config: cannot read "missing.json"');
  });

  it('loadConfig with --config set but no file text refuses rather than ignoring the file', () => {
    assert.throws(
      () => loadConfig(['--config', 'x.json'], {}),
      (e: unknown) => e instanceof ConfigError && e.option === 'config',
    );
  });
});

describe('config file: errors name the file and the key, on one line', () => {
  it('a bad value', () => {
    const error = fileError({ port: 'not-a-port' });
    assert.equal(error.option, 'port');
    assert.equal(error.message, 'invalid config file hws.json: "port": expected a port number (got "not-a-port")');
  });

  it('only the value in effect is validated: a flag over a bad file value wins, as a flag over a bad env value does', () => {
    assert.equal(fromFile({ port: 'nope' }, ['--port', '9000']).port, 9000);
  });

  it('secret values are never echoed, from options or from invalid JSON', () => {
    const token = 'tok-SECRET-123';
    const bad = fileError({ 'admin-token': token });
    assert.equal(bad.option, 'admin-token');
    assert.ok(!bad.message.includes(token), bad.message);
    // V8 quotes the text around an unexpected token ("Unexpected token 't', "{"admin-tok"... is not valid JSON").
    for (const text of [
      `{"admin-token": ${token}}`,
      `{"redis-url": "redis://:${token}@r:6379" oops}`,
      `{"redis-url": "redis://:${token}@r:6379",}`,
      `{"admin-token": "${token}`,
    ]) {
      const error = fileError(text);
      assert.equal(error.option, null);
      assert.match(error.message, /not valid JSON/);
      assert.ok(!error.message.includes(token), error.message);
    }
    assert.match(fileError('{\n  "port": 1,\n  oops\n}').message, /not valid JSON at line 3 column 3$/);
  });

  it('unknown keys (with a hint for camelCase and snake_case), wrong kinds, config inside config, not an object, too large', () => {
    assert.match(fileError({ maxConnections: 5 }).message, /"maxConnections": unknown option \(did you mean "max-connections"\?\)/);
    assert.match(fileError({ redis_url: 'redis://x' }).message, /did you mean "redis-url"\?/);
    assert.match(fileError({ bogus: 1 }).message, /"bogus": unknown option \(keys are the flags' names/);
    for (const value of [null, [8080], { n: 1 }])
      assert.match(fileError({ port: value }).message, /"port": expected a string, number or boolean/);
    assert.match(fileError({ config: 'other.json' }).message, /"config": cannot be set inside a config file/);
    for (const text of ['[]', '"port"', '42', 'null']) assert.match(fileError(text).message, /expected one JSON object/);
    assert.match(fileError(`{"x": "${'a'.repeat(1024 * 1024)}"}`).message, /larger than/);
    const weird = fileError({ 'a\nb': 1 });
    assert.ok(weird.message.includes('"a\\nb"'), weird.message);
  });
});

describe('config file: namespaces', () => {
  const chat = {
    historySize: 100,
    historyTtl: 300_000,
    historyMetaTtl: 86_400_000,
    recovery: true,
    presence: true,
    joinLeave: true,
    proxy: 'off',
  };

  it('without a namespaces key (file or not): the built-in chat keeps 100 messages for 5 minutes with presence', () => {
    assert.deepEqual(fromFile({ port: 9000 }).namespaces, { chat });
    const plain = loadConfig([], {});
    assert.deepEqual(plain.kind === 'config' && plain.config.namespaces, { chat });
  });

  it('the file replaces them; unset options take their defaults; `{}` means none', () => {
    const config = fromFile({
      namespaces: { news: { 'history-size': 1000, 'history-ttl': '1h', recovery: true }, rooms: { presence: true, 'join-leave': 'on' } },
    });
    assert.deepEqual(config.namespaces, {
      news: {
        historySize: 1000,
        historyTtl: 3_600_000,
        historyMetaTtl: 86_400_000,
        recovery: true,
        presence: false,
        joinLeave: false,
        proxy: 'off',
      },
      rooms: {
        historySize: 0,
        historyTtl: 300_000,
        historyMetaTtl: 86_400_000,
        recovery: false,
        presence: true,
        joinLeave: true,
        proxy: 'off',
      },
    });
    assert.deepEqual(fromFile({ namespaces: {} }).namespaces, {});
  });

  it('a namespace named __proto__ is a namespace, not a prototype', () => {
    const namespaces = fromFile({ namespaces: JSON.parse('{"__proto__": {"presence": true}}') as unknown }).namespaces;
    assert.deepEqual(Object.keys(namespaces), ['__proto__']);
    assert.equal(Object.getPrototypeOf(namespaces), Object.prototype);
  });

  it('bad namespaces: the dotted key names the namespace and option', () => {
    const cases: [unknown, RegExp][] = [
      [[], /"namespaces": expected an object/],
      [{ 'a:b': {} }, /"namespaces.a:b": a namespace name is/],
      [{ '': {} }, /"namespaces.": a namespace name is/],
      [{ chat: 5 }, /"namespaces.chat": expected an object of options/],
      [{ chat: { history: 10 } }, /"namespaces.chat.history": unknown namespace option \(known: history-size, history-ttl/],
      [{ chat: { 'history-size': 10_001 } }, /"namespaces.chat.history-size": must be at most 10000/],
      [{ chat: { 'history-size': -1 } }, /"namespaces.chat.history-size": expected a whole number/],
      [{ chat: { 'history-ttl': 'soon' } }, /"namespaces.chat.history-ttl": expected a duration/],
      [{ chat: { recovery: 'maybe' } }, /"namespaces.chat.recovery": /],
      [{ chat: { presence: null } }, /"namespaces.chat.presence": expected a string, number or boolean/],
      [{ chat: { recovery: true } }, /"namespaces.chat.recovery": needs history-size > 0/],
      [
        { chat: { 'history-size': 5, 'history-ttl': '1h', 'history-meta-ttl': '5m' } },
        /"namespaces.chat.history-meta-ttl": must be at least history-ttl/,
      ],
      [Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`n${i}`, {}])), /"namespaces": at most 256/],
    ];
    for (const [namespaces, expected] of cases)
      assert.match(fileError({ namespaces }).message, expected, JSON.stringify(namespaces).slice(0, 80));
  });
});
