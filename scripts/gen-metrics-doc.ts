import { writeFileSync } from 'node:fs';
import { metricsReference } from '../src/server/metrics-reference.ts';

writeFileSync(new URL('../docs/metrics.md', import.meta.url), metricsReference());
console.log('wrote docs/metrics.md');
