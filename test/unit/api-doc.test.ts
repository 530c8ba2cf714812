/** docs/api.md lists every method and every error code of the server API, with the status src/api/errors.ts gives it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { apiErrors } from '../../src/api/errors.ts';
import { methods } from '../../src/api/schemas.ts';

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

it('every error code is a row `| status | code | meaning |` of docs/api.md, and every row a code', () => {
  const rows = [...doc.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \| (.+) \|$/gm)].map((m) => [m[2], Number(m[1]), m[3]]);
  assert.deepEqual(
    rows.map(([code, status]) => [code, status]).sort(),
    Object.entries(apiErrors)
      .map(([code, e]) => [code, e.status])
      .sort(),
  );
  for (const [code, , meaning] of rows) assert.equal(meaning, apiErrors[code as keyof typeof apiErrors].meaning, `${code}'s meaning`);
});

it('every method is a row of the methods table', () => {
  for (const name of Object.keys(methods)) assert.match(doc, new RegExp(`^\\| \`${name}\` \\|`, 'm'), name);
});
