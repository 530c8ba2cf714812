import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { metricsReference } from '../../src/server/metrics-reference.ts';

it('docs/metrics.md is what the metrics registry generates (run `npm run docs:metrics`)', () => {
  const onDisk = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  assert.equal(onDisk, metricsReference());
});

it('the reference names every metric with its labels', () => {
  const doc = metricsReference();
  for (const name of [
    'hws_connections',
    'hws_hook_calls_total',
    'hws_api_requests_total',
    'hws_channel_resyncs_total',
    'hws_recoveries_total',
  ])
    assert.ok(doc.includes(`| \`${name}\` |`), name);
  assert.ok(doc.includes('`hook`, `result`, `reason`'));
});
