import { runtimeMatrix } from '../conformance/matrix.ts';

runtimeMatrix('node');
