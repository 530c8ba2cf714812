#!/usr/bin/env bash
# Type-checks the Bun and Deno runtime files that tsconfig.json excludes (@types/node has no
# Bun or Deno globals): Deno with its own checker, Bun with tsc and src/runtime/bun-env.d.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "deno check: src/index.ts src/runtime/deno.ts"
node_modules/.bin/deno check src/index.ts src/runtime/deno.ts

echo "tsc: src/runtime/bun.ts src/binary.ts (with src/runtime/bun-env.d.ts)"
node --import tsx scripts/gen-static-manifest.ts >/dev/null
mkdir -p .tmp
cat > .tmp/tsconfig.bun.json <<'JSON'
{
  "extends": "../tsconfig.json",
  "compilerOptions": { "noEmit": true },
  "include": [],
  "files": ["../src/runtime/bun-env.d.ts", "../src/runtime/bun.ts", "../src/binary.ts"],
  "exclude": []
}
JSON
node_modules/.bin/tsc -p .tmp/tsconfig.bun.json
echo "runtimes typecheck ok"
