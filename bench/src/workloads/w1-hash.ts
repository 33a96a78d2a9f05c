/** W1 hash map: see elem.ts. Usage: w1-hash.ts sys|core|core-codec */
import { layerArg } from '../harness.ts';
import { elemWorkload } from './elem.ts';

await elemWorkload('hash', layerArg(['sys', 'core', 'core-codec']));
