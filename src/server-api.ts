/**
 * hardened-ws/server-api: the typed client of the server API, for an application's backend on
 * Node, Bun, Deno or any runtime with fetch (docs/api.md).
 */
export {
  createServerApi,
  ServerApiError,
  type ServerApi,
  type ServerApiOptions,
  type MethodName,
  type MethodRequest,
  type MethodResponse,
} from './api/client.ts';
