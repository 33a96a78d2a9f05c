export type { KernelVersion, LockdownMode } from '../system.ts';
export { type FeatureProbe, features } from './probes.ts';
