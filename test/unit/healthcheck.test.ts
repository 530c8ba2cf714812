import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthUrl } from '../../src/server/healthcheck.ts';

describe('healthcheck: the URL it probes', () => {
  it('reaches a wildcard bind address on loopback, keeps a specific one, brackets IPv6, follows TLS', () => {
    assert.equal(healthUrl({ host: '0.0.0.0', port: 8080, tls: false }), 'http://127.0.0.1:8080/healthz');
    assert.equal(healthUrl({ host: '::', port: 8080, tls: false }), 'http://[::1]:8080/healthz');
    assert.equal(healthUrl({ host: '127.0.0.1', port: 9000, tls: true }), 'https://127.0.0.1:9000/healthz');
    assert.equal(healthUrl({ host: '10.1.2.3', port: 80, tls: false }), 'http://10.1.2.3:80/healthz');
    assert.equal(healthUrl({ host: '::1', port: 8443, tls: true }), 'https://[::1]:8443/healthz');
    assert.equal(healthUrl({ host: 'localhost', port: 8080, tls: false }), 'http://localhost:8080/healthz');
  });

  it('refuses port 0 (the server picks one at start; the probe cannot know it)', () => {
    assert.throws(() => healthUrl({ host: '0.0.0.0', port: 0, tls: false }), /PORT is 0/);
  });
});
