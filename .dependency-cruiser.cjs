/**
 * The house's layer order, checked in CI (`npm run check:imports`): imports point down, the client
 * imports only the wire contract, and no file cycle. docs/architecture.md explains each layer.
 *
 *   entries (index, lib, node, redis, server-api, binary)
 *   runtime/        → server, library, core, … (the only files touching node:*, ws, Bun, Deno)
 *   server/         → library, api, hooks, auth-service, backends, channels, builtins, core, …
 *   library/        → api, hooks, auth-service, backends, channels, builtins, core, …
 *   api/ hooks/ auth-service/ backends/ audit/
 *   channels/ builtins/ → core, auth, protocol, config, logging
 *   core/           → auth, protocol, config, logging
 *   auth/           → protocol, logging
 *   protocol/ config/ logging/   (leaves)
 *   client/         → protocol only
 */
const layer = (name) => `^src/${name}/`;
/** For each layer, the src/ folders it must not import (everything at or above it, but itself). */
const forbidden = {
  protocol: [
    'config',
    'logging',
    'auth',
    'core',
    'channels',
    'builtins',
    'api',
    'hooks',
    'auth-service',
    'backends',
    'audit',
    'library',
    'server',
    'runtime',
    'client',
  ],
  config: [
    'protocol',
    'logging',
    'auth',
    'core',
    'channels',
    'builtins',
    'api',
    'hooks',
    'auth-service',
    'backends',
    'audit',
    'library',
    'server',
    'runtime',
    'client',
  ],
  logging: [
    'protocol',
    'config',
    'auth',
    'core',
    'channels',
    'builtins',
    'api',
    'hooks',
    'auth-service',
    'backends',
    'audit',
    'library',
    'server',
    'runtime',
    'client',
  ],
  auth: [
    'config',
    'core',
    'channels',
    'builtins',
    'api',
    'hooks',
    'auth-service',
    'backends',
    'audit',
    'library',
    'server',
    'runtime',
    'client',
  ],
  core: ['channels', 'builtins', 'api', 'hooks', 'auth-service', 'backends', 'audit', 'library', 'server', 'runtime', 'client'],
  channels: ['builtins', 'api', 'hooks', 'auth-service', 'backends', 'audit', 'library', 'server', 'runtime', 'client'],
  builtins: ['channels', 'api', 'hooks', 'auth-service', 'backends', 'audit', 'library', 'server', 'runtime', 'client'],
  'auth-service': ['api', 'hooks', 'backends', 'audit', 'library', 'server', 'runtime', 'client'],
  backends: ['api', 'hooks', 'builtins', 'audit', 'library', 'server', 'runtime', 'client'],
  api: ['hooks', 'backends', 'audit', 'library', 'server', 'runtime', 'client'],
  hooks: ['api', 'backends', 'audit', 'library', 'server', 'runtime', 'client'],
  audit: ['core', 'channels', 'builtins', 'api', 'hooks', 'auth-service', 'backends', 'library', 'server', 'runtime', 'client'],
  library: ['server', 'runtime', 'client', 'audit'],
  server: ['runtime', 'client'],
  runtime: ['client'],
  client: [
    'config',
    'logging',
    'auth',
    'core',
    'channels',
    'builtins',
    'api',
    'hooks',
    'auth-service',
    'backends',
    'audit',
    'library',
    'server',
    'runtime',
  ],
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A file cycle: two files that need each other belong together or need a third below them.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...Object.entries(forbidden).map(([from, targets]) => ({
      name: `layer-${from}`,
      severity: 'error',
      comment: `src/${from}/ must not import ${targets.join(', ')} (imports point down: see docs/architecture.md)`,
      from: { path: layer(from) },
      to: { path: `^src/(${targets.join('|')})/` },
    })),
    {
      name: 'layer-entries-only',
      severity: 'error',
      comment: 'The entries (index, lib, node, redis, server-api, binary) are imported by nobody in src/.',
      from: { path: '^src/' },
      to: { path: '^src/(index|lib|node|redis|server-api|binary)[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^src/runtime/.*[.]gen[.]ts$' },
  },
};
