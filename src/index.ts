#!/usr/bin/env node
/**
 * The `hardened-ws` command (`node dist/index.js`, `bun run src/index.ts`, `deno run … src/index.ts`):
 * detects the runtime it was started on and runs the server on that runtime's adapter.
 * The library is `lib.ts`; importing the package never starts a server.
 */
import { runServerCommand } from './server/command.ts';
import type { Platform, RuntimeName } from './server/platform.ts';

const runtime: RuntimeName = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';
// A computed specifier on purpose: the Node build never loads, bundles or type-checks Bun or Deno code.
const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const adapter = (await import(new URL(`./runtime/${runtime}.${extension}`, import.meta.url).href)) as { readonly platform: Platform };
await runServerCommand(adapter.platform);
