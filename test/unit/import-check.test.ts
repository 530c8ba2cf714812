/**
 * The layer order is a check that fails: dependency-cruiser with .dependency-cruiser.cjs passes on
 * src/, and rejects a deliberately wrong import (core → channels) and a file cycle in a scratch tree.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');
const depcruise = (cwd: string) =>
  spawnSync(
    path.join(root, 'node_modules/.bin/depcruise'),
    ['src', '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'err'],
    { cwd, encoding: 'utf8' },
  );

it('src/ follows the layer order and has no file cycle', () => {
  const result = depcruise(root);
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

it('an import against the order and a file cycle each fail the check', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hws-layers-'));
  try {
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    };
    write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true },
      }),
    );
    write('src/channels/broker.ts', 'export const broker = 1;\n');
    write('src/core/gateway.ts', "import { broker } from '../channels/broker.ts';\nexport const gateway = broker;\n");
    write('src/core/a.ts', "import { b } from './b.ts';\nexport const a = () => b;\n");
    write('src/core/b.ts', "import { a } from './a.ts';\nexport const b = () => a;\n");
    const result = depcruise(dir);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /layer-core: src\/core\/gateway\.ts → src\/channels\/broker\.ts/);
    assert.match(result.stdout, /no-circular: src\/core\/a\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
