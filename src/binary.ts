/** Entry of the single binary (`npm run build:binary` → build/hardened-ws): Bun with embedded static files. */
import { bunEmbeddedPlatform } from './runtime/bun-embedded.ts';
import { runServerCommand } from './server/command.ts';

await runServerCommand(bunEmbeddedPlatform);
