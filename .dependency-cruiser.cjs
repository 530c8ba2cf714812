/**
 * The house's layer order, checked in CI (`npm run check:imports`): imports point down, the client
 * imports only the wire contract, and no file cycle. docs/architecture.md explains each layer.
 */

/** Lowest first: a folder may import any folder of a lower rank, and none of its own rank but itself. */
const ranks = [
  ['protocol', 'config', 'logging'],
  ['auth'],
  ['core'],
  ['channels', 'builtins'],
  ['auth-service', 'backends', 'audit', 'api', 'hooks'],
  ['library'],
  ['server'],
  ['runtime'],
];
/** Narrower than the ranks allow, or an edge within a rank. */
const only = {
  client: ['protocol'], // the SDK ships to browsers: the wire contract and nothing else
  audit: ['protocol', 'config', 'logging'], // the audit checks any endpoint: none of our server's layers
};
const alsoSameRank = {
  backends: ['auth-service'], // the auth service's store ports (ticket-store.ts, session-store.ts)
};

const folders = [...ranks.flat(), 'client'];
const rankOf = (folder) => ranks.findIndex((rank) => rank.includes(folder));
const allowed = (from) =>
  only[from]
    ? [from, ...only[from]]
    : folders.filter((to) => to === from || (rankOf(to) >= 0 && rankOf(to) < rankOf(from)) || alsoSameRank[from]?.includes(to));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A file cycle: two files that need each other belong together or need a third below them.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...folders.map((from) => {
      const targets = folders.filter((to) => !allowed(from).includes(to));
      return {
        name: `layer-${from}`,
        severity: 'error',
        comment: `src/${from}/ may import only ${allowed(from).join(', ')} (imports point down: see docs/architecture.md)`,
        from: { path: `^src/${from}/` },
        to: { path: `^src/(${targets.join('|')})/` },
      };
    }),
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
