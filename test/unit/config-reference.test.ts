import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { configurationReference } from '../../src/config/reference.ts';
import { optionSpecs } from '../../src/config/schema.ts';

it('docs/configuration.md is what the option table generates (run `npm run docs:config`)', () => {
  const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(onDisk, configurationReference());
});

it('the reference lists every flag and variable, and no secret default', () => {
  const doc = configurationReference();
  for (const s of Object.values(optionSpecs)) {
    assert.ok(doc.includes(`\`--${s.flag}\``) && doc.includes(`\`${s.env}\``), s.flag);
  }
  assert.ok(!doc.includes('`demo:demo`'));
});
