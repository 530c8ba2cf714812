import { bunPlatform } from '../runtime/bun.ts';
import { runServerCommand } from '../server/command.ts';

await runServerCommand(bunPlatform);
