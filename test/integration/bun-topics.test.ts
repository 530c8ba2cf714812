/**
 * What runtime/bun-topics.ts relies on in Bun's `server.publish`, measured on the Bun we ship
 * (test/fixtures/bun-publish-probe.mjs, a real Bun process): with `backpressureLimit` set, a
 * publish returns 0 only when a subscriber is past the limit at that moment (so the gateway, which
 * then looks at every subscriber's buffer in the same tick, finds and closes it: 4413), and topic
 * publishes and a socket's own sends arrive in call order (a delivery never overtakes an ack).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

it("Bun's publish: a 0 means a subscriber is past backpressureLimit now; a socket gets topic texts and its own sends in call order", () => {
  const out = execFileSync(path.join(root, 'node_modules/.bin/bun'), ['run', path.join(root, 'test/fixtures/bun-publish-probe.mjs')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | boolean>;
  assert.ok((r.dropped as number) > 0, `the reader that stopped had texts dropped (${JSON.stringify(r)})`);
  assert.equal(r.droppedWithNoneOver, 0, `a publish returned 0 while no subscriber was past the limit (${JSON.stringify(r)})`);
  assert.equal(r.inCallOrder, true, 'topic publishes and a direct send arrive in call order');
});
