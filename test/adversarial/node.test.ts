import { adversarialSuite } from './suite.ts';

adversarialSuite('node');
