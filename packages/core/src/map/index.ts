export {
  type BatchReadOptions,
  BpfMap,
  type GetOptions,
  MapBatchCursor,
  type OpenedKey,
  type OpenedValue,
  type OpenOptions,
  type PinOpenOptions,
  type SetOptions,
  type SetValue,
  type SpecElement,
  type SpecKey,
  type SpecValue,
  type UpdateFlagName,
  type UpdateMode,
} from './map.ts';
export {
  type FdValueKind,
  findMapType,
  type MapTypeInfo,
  type MapTypeName,
  mapTypes,
  type PerCpuMapTypeName,
  type SizeRule,
} from './map-types.ts';
export { MapMemory } from './memory.ts';
export { RingBuffer, type RingBufferMap, type RingRecord, type RingRecordHandler } from './ring-buffer.ts';
export { type MapBtf, type MapSpec, pageSize, possibleCpus } from './spec.ts';
