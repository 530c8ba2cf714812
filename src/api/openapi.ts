/**
 * The server API's OpenAPI 3.1 document, generated from the same zod schemas the routes validate
 * with (zod's own JSON Schema output): served at GET /api/openapi.json and kept in
 * docs/api.openapi.json (`npm run docs:api`; a test fails when the committed file is stale).
 */
import { z } from 'zod';
import { apiErrors } from './errors.ts';
import { methods, sharedSchemas } from './schemas.ts';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const pascal = (name: string) => name.replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());

/** Calls the server makes to the application (the backend hooks, src/hooks/), documented as OpenAPI webhooks. */
export interface Webhooks {
  readonly schemas: Readonly<Record<string, z.ZodType>>;
  readonly calls: Readonly<Record<string, { readonly summary: string; readonly request: string; readonly answer: string }>>;
}

/** The document, deterministic (same input, same bytes). */
export function openApiDocument(version: string, webhooks?: Webhooks): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(sharedSchemas)) registry.add(schema, { id });
  for (const [name, method] of Object.entries(methods)) {
    registry.add(method.request, { id: `${pascal(name)}Request` });
    registry.add(method.response, { id: `${pascal(name)}Response` });
  }
  for (const [id, schema] of Object.entries(webhooks?.schemas ?? {})) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/components/schemas/${id}` }).schemas;
  // Components are fragments of one document: they carry no $schema or $id of their own.
  const schemas = Object.fromEntries(
    Object.entries(generated).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );

  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('ErrorResponse') } } });
  const statuses = [...new Set(Object.values(apiErrors).map((e) => e.status))].sort();
  const paths: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods)) {
    const responses: Record<string, unknown> = {
      '200': { description: 'Done', content: { 'application/json': { schema: ref(`${pascal(name)}Response`) } } },
    };
    for (const status of statuses) {
      const codes = Object.entries(apiErrors)
        .filter(([, e]) => e.status === status)
        .map(([code]) => `\`${code}\``);
      responses[String(status)] = errorResponse(codes.join(', '));
    }
    paths[`/api/${name}`] = {
      post: {
        operationId: name,
        summary: method.summary,
        security: [{ apiKey: [] }],
        requestBody: { required: true, content: { 'application/json': { schema: ref(`${pascal(name)}Request`) } } },
        responses,
      },
    };
  }

  const hook = (summary: string, request: string, answer: string) => ({
    post: {
      summary,
      security: [{ hookSecret: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: ref(request) } } },
      responses: {
        '200': { description: 'The decision or answer', content: { 'application/json': { schema: ref(answer) } } },
        default: {
          description: 'Anything else (and a timeout, a malformed body) is a failure of the backend: the client gets `backend_unavailable`',
        },
      },
    },
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'hardened-ws server API',
      version,
      description:
        'Lets an application backend publish, read history and presence, list channels and instances, and disconnect users. Every method is `POST /api/<method>` with a JSON body and `Authorization: Bearer <API key>`. Errors are `{"error":{"code","message"}}`; docs/api.md lists the codes. The webhooks are the backend hooks the server calls.',
    },
    paths,
    webhooks: Object.fromEntries(
      Object.entries(webhooks?.calls ?? {}).map(([name, call]) => [name, hook(call.summary, call.request, call.answer)]),
    ),
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'One of the --api-key values' },
        hookSecret: { type: 'http', scheme: 'bearer', description: 'The --hook-secret, sent by the server to the backend' },
      },
    },
  };
}
