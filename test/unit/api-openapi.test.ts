/** docs/api.openapi.json is what the zod schemas generate, and a well-formed OpenAPI 3.1 document (every $ref resolves). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { apiErrors } from '../../src/api/errors.ts';
import { methods } from '../../src/api/schemas.ts';
import { serverOpenApi } from '../../src/server/server-api.ts';

const committed = () => readFileSync(new URL('../../docs/api.openapi.json', import.meta.url), 'utf8');

it('docs/api.openapi.json is what the schemas generate (run `npm run docs:api`)', () => {
  assert.equal(committed(), `${JSON.stringify(serverOpenApi(), null, 2)}\n`);
});

it('every method has a path, every $ref resolves, every error status is documented', () => {
  const doc = serverOpenApi() as {
    paths: Record<string, { post: { responses: Record<string, unknown> } }>;
    components: { schemas: Record<string, unknown> };
  };
  assert.deepEqual(
    Object.keys(doc.paths),
    Object.keys(methods).map((name) => `/api/${name}`),
  );
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]*"/g) ?? [];
  assert.ok(refs.length > 0);
  for (const ref of refs) {
    const target = /#\/components\/schemas\/([A-Za-z]+)"$/.exec(ref)?.[1];
    assert.ok(target !== undefined && Object.hasOwn(doc.components.schemas, target), ref);
  }
  for (const path of Object.values(doc.paths))
    for (const status of new Set(Object.values(apiErrors).map((e) => String(e.status)))) assert.ok(path.post.responses[status], status);
  // Components are fragments of one document: no $schema or $id of their own.
  assert.doesNotMatch(JSON.stringify(doc.components), /"\$(schema|id)"/);
});
