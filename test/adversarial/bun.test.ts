import { adversarialSuite } from './suite.ts';

adversarialSuite('bun');
