/** Writes docs/api.openapi.json from the server API's zod schemas (a test fails when the committed file is stale). */
import { writeFileSync } from 'node:fs';
import { serverOpenApi } from '../src/server/server-api.ts';

writeFileSync(new URL('../docs/api.openapi.json', import.meta.url), `${JSON.stringify(serverOpenApi(), null, 2)}\n`);
console.log('wrote docs/api.openapi.json');
