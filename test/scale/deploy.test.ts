/**
 * The shipped deployment examples, checked without a Docker engine: both compose files parse and
 * have the intended shape (image from the repo's Dockerfile, read-only, liveness healthchecks with
 * the binary's own `healthcheck` subcommand, never /readyz,
 * configuration by environment that the server's own config loader accepts), and the scaled one
 * wires HAProxy (deploy/haproxy.cfg) to instances that exist, with the proxy trusted by address.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { healthUrl } from '../../src/server/healthcheck.ts';
import { projectRoot } from '../support/server-process.ts';

const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy';
const deployDir = path.join(projectRoot, 'deploy');
const read = (name: string) => readFileSync(path.join(deployDir, name), 'utf8');

type Service = {
  build?: string | { context: string };
  image?: string;
  environment?: Record<string, string> | string[];
  read_only?: boolean;
  cap_drop?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: string[];
  ports?: string[];
  networks?: Record<string, { ipv4_address?: string } | null> | string[];
};
type Compose = { services: Record<string, Service>; networks?: Record<string, { ipam?: { config?: { subnet: string }[] } }> };

/** js-yaml comes with the dev tooling (eslint); without it the structural checks are skipped. */
let parseYaml: ((text: string) => unknown) | undefined;

const env = (service: Service): Record<string, string> =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]))
    : { ...service.environment };

/** `${NAME:-default}` as compose would expand it with NAME unset. */
const composeDefaults = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));

function checkInstance(name: string, service: Service): Record<string, string> {
  const context = typeof service.build === 'string' ? service.build : service.build?.context;
  assert.ok(context, `${name}: built from the repository`);
  assert.ok(existsSync(path.join(deployDir, context, 'Dockerfile')), `${name}: build context ${context} has the Dockerfile`);
  assert.equal(service.read_only, true, `${name}: read-only root filesystem`);
  assert.deepEqual(service.cap_drop, ['ALL'], `${name}: no capabilities`);
  // Liveness: a readiness probe would turn every instance "unhealthy" during one Redis outage.
  assert.deepEqual(
    service.healthcheck?.test,
    ['CMD', '/usr/local/bin/hardened-ws', 'healthcheck'],
    `${name}: healthcheck is the binary's liveness probe`,
  );
  const values = composeDefaults(env(service));
  assert.equal(values.HOST, '0.0.0.0', `${name}: listens on all interfaces inside the container`);
  // The server's own loader accepts the environment exactly as given (no flags)…
  const loaded = loadConfig([], values);
  assert.equal(loaded.kind, 'config', name);
  // …and the healthcheck, reading the same environment, probes the port the server listens on.
  if (loaded.kind === 'config') assert.equal(healthUrl(loaded.config), `http://127.0.0.1:${values.PORT ?? 8080}/healthz`);
  return values;
}

describe('deploy/: compose files and the haproxy example', () => {
  before(async () => {
    try {
      const yaml = (await import('js-yaml' as string)) as { load(text: string): unknown };
      parseYaml = (text) => yaml.load(text);
    } catch {
      parseYaml = undefined;
    }
  });

  it('10a. docker-compose.yml: one instance, embedded default (no Redis), read-only, healthcheck', (t) => {
    const text = read('docker-compose.yml');
    if (parseYaml === undefined) {
      t.diagnostic('js-yaml not installed: key fields checked by text only');
      for (const field of ['build: ..', 'read_only: true', '"hardened-ws", "healthcheck"', 'HOST: 0.0.0.0'])
        assert.ok(text.includes(field), field);
      assert.doesNotMatch(text, /readyz/);
      assert.doesNotMatch(text, /^\s*REDIS_URL:/m);
      return;
    }
    const compose = parseYaml(text) as Compose;
    const names = Object.keys(compose.services);
    assert.equal(names.length, 1, `one service: ${names.join(', ')}`);
    const values = checkInstance(names[0]!, compose.services[names[0]!]!);
    assert.equal(values.REDIS_URL, undefined, 'the embedded default keeps everything in memory');
    assert.ok(
      compose.services[names[0]!]!.ports?.some((p) => p.endsWith(':8080')),
      'port 8080 published',
    );
  });

  it('10b. docker-compose.scale.yml: Redis + two instances + HAProxy, wired to services that exist', (t) => {
    const text = read('docker-compose.scale.yml');
    if (parseYaml === undefined) {
      t.diagnostic('js-yaml not installed: key fields checked by text only');
      for (const field of [
        'redis:',
        'app1:',
        'app2:',
        'haproxy:',
        './haproxy.cfg:',
        'REDIS_URL: redis://redis:',
        'TRUST_PROXY:',
        'APP1: app1:8080',
        'APP2: app2:8080',
      ]) {
        assert.ok(text.includes(field), field);
      }
      return;
    }
    const compose = parseYaml(text) as Compose;
    const { services } = compose;
    for (const name of ['redis', 'app1', 'app2', 'haproxy']) assert.ok(services[name], `service ${name}`);
    assert.ok(services.redis!.healthcheck, 'redis has a healthcheck');

    const haproxy = services.haproxy!;
    const lbEnv = env(haproxy);
    const proxyAddress = Object.values((haproxy.networks ?? {}) as Record<string, { ipv4_address?: string } | null>).find(
      (n) => n?.ipv4_address,
    )?.ipv4_address;
    assert.ok(proxyAddress, 'haproxy has a fixed address the instances can trust');

    // The haproxy.cfg that is mounted is the shipped one, and each of its servers is a compose service.
    const mount = haproxy.volumes?.find((v) => v.includes('haproxy.cfg'));
    assert.ok(mount, 'haproxy.cfg is mounted');
    assert.equal(path.resolve(deployDir, mount.split(':')[0]!), path.join(deployDir, 'haproxy.cfg'));
    const cfg = read('haproxy.cfg');
    const serverVars = [...cfg.matchAll(/^\s*server\s+\S+\s+"\$\{(\w+)\}"/gm)].map((m) => m[1]!);
    assert.deepEqual(serverVars.sort(), ['APP1', 'APP2']);
    const instances = serverVars.map((name) => {
      const value = lbEnv[name];
      assert.ok(value, `haproxy's environment sets ${name}`);
      const [host, port] = value.split(':');
      assert.ok(services[host!], `${name}=${value} names a compose service`);
      const values = checkInstance(host!, services[host!]!);
      assert.equal(values.PORT ?? '8080', port, `${host} listens on the port haproxy uses`);
      assert.deepEqual(
        values.TRUST_PROXY?.split(',').map((s) => s.trim()),
        [proxyAddress],
        `${host} trusts exactly haproxy`,
      );
      const redisHost = new URL(values.REDIS_URL!).hostname;
      assert.ok(services[redisHost], `${host}: REDIS_URL points at the ${redisHost} service`);
      return { host, values };
    });
    // Every instance must share the same users and settings (the same anchor), or logins would depend on the instance.
    const [first, ...rest] = instances;
    for (const other of rest) assert.deepEqual(other.values, first!.values, `${other.host} is configured like ${first!.host}`);

    const dependsOn = haproxy.depends_on as Record<string, { condition: string }>;
    for (const { host } of instances) assert.equal(dependsOn[host!]?.condition, 'service_healthy', `haproxy waits for ${host}`);
    const subnet = Object.values(compose.networks ?? {})
      .flatMap((n) => n.ipam?.config ?? [])
      .map((c) => c.subnet)[0];
    assert.ok(subnet && proxyAddress.startsWith(subnet.split('.').slice(0, 3).join('.') + '.'), `${proxyAddress} lies in ${subnet}`);

    // HAProxy accepts the shipped file with exactly the environment compose gives it (names resolve later, in Docker).
    const check = spawnSync(HAPROXY, ['-c', '-f', path.join(deployDir, 'haproxy.cfg')], {
      encoding: 'utf8',
      timeout: 10_000,
      env: { PATH: process.env.PATH ?? '', ...lbEnv },
    });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });
});
