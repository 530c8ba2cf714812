import { adversarialSuite } from './suite.ts';

adversarialSuite('binary');
