// Lint: typescript-eslint's recommended rules plus the house boundary: only src/runtime/ may touch
// node:*, ws, Bun or Deno (docs/architecture.md). The layer order itself is checked by
// dependency-cruiser (.dependency-cruiser.cjs, npm run check:imports).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', '.tmp/', 'test-artifacts/', 'src/runtime/*.gen.ts', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/runtime/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['ws', '@hono/node-server', 'hono/bun', 'hono/deno'].map((name) => ({
            name,
            message: 'Runtime adapters live in src/runtime/.',
          })),
          patterns: [
            {
              group: ['node:*', '@hono/node-server/*'],
              message: 'Only src/runtime/ may touch node:* or the Node adapter (web-standard core).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Bun', message: 'Only src/runtime/ may use Bun.' },
        { name: 'Deno', message: 'Only src/runtime/ may use Deno.' },
        { name: 'process', message: 'Only src/runtime/ may use process.' },
        { name: 'Buffer', message: 'Use Uint8Array/TextEncoder in web-standard code.' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    files: ['static/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        fetch: 'readonly',
        WebSocket: 'readonly',
        console: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
);
