/**
 * `npm run docs:examples`: copies each example file into README.md, into the ```ts block after
 * its `<!-- example: examples/… -->` marker. test/unit/readme-examples.test.ts fails when they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BLOCK = /(<!-- example: (\S+) -->\n```ts\n)[\s\S]*?(```)/g;

/** README.md with every marked block replaced by its file's current content. */
export function readmeWithExamples(readme: string): string {
  return readme.replace(
    BLOCK,
    (_match, head: string, file: string, fence: string) => `${head}${readFileSync(root + file, 'utf8')}${fence}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = `${root}README.md`;
  writeFileSync(path, readmeWithExamples(readFileSync(path, 'utf8')));
  process.stdout.write('README.md: examples copied\n');
}
