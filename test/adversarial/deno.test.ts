import { adversarialSuite } from './suite.ts';

adversarialSuite('deno');
