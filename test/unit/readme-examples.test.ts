/** The README's library code is the tested examples/, copied (npm run docs:examples), never written apart. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { readmeWithExamples } from '../../scripts/sync-readme-examples.ts';

it('README.md holds each example file exactly as it is in examples/', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.ok((readme.match(/<!-- example: /g) ?? []).length >= 3, 'the markers are there');
  assert.equal(readme, readmeWithExamples(readme), 'run `npm run docs:examples`');
});
