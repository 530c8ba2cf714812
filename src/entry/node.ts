#!/usr/bin/env node
import { nodePlatform } from '../runtime/node.ts';
import { runServerCommand } from '../server/command.ts';

await runServerCommand(nodePlatform);
