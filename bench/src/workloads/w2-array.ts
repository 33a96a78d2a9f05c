/** W2 array map: see elem.ts. Usage: w2-array.ts sys|core|core-codec */
import { layerArg } from '../harness.ts';
import { elemWorkload } from './elem.ts';

await elemWorkload('array', layerArg(['sys', 'core', 'core-codec']));
