export { pageSize, possibleCpus } from '../system.ts';
export type { BatchReadOptions } from './batch.ts';
export { MapBatchCursor } from './batch-cursor.ts';
export type {
  OpenedKey,
  OpenedValue,
  SetValue,
  SpecElement,
  SpecKey,
  SpecValue,
} from './key-value-types.ts';
export { BpfMap } from './map.ts';
export {
  type FdValueKind,
  findMapType,
  type MapTypeInfo,
  type MapTypeName,
  mapTypes,
  type PerCpuMapTypeName,
} from './map-types.ts';
export { MapMemory } from './memory.ts';
export type { OpenOptions, PinOpenOptions } from './open.ts';
export type { GetOptions, SetOptions, UpdateFlagName, UpdateMode } from './options.ts';
export type { SizeRule } from './size-rule.ts';
export type { MapBtf, MapCreateOptions } from './spec.ts';
