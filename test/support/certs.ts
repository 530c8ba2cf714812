/** A local CA and a server certificate made by the project's own `npm run cert` script. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from './server-process.ts';

export interface TestCerts {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  /** PEM text of the CA, for clients. */
  readonly caPem: string;
}

let made: TestCerts | undefined;

export function testCerts(): TestCerts {
  if (made) return made;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hws-certs-'));
  execFileSync('bash', [path.join(projectRoot, 'scripts/cert.sh'), dir], { stdio: 'pipe' });
  made = { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), caPem: readFileSync(path.join(dir, 'ca.pem'), 'utf8') };
  return made;
}
