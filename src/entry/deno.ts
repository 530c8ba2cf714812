import { denoPlatform } from '../runtime/deno.ts';
import { runServerCommand } from '../server/command.ts';

await runServerCommand(denoPlatform);
