export {
  type BitfieldCodec,
  type BitfieldKind,
  type BitfieldValue,
  bitfield,
  type UnionMembers,
  type UnionValue,
  union,
} from './bitfield.ts';
export {
  bytes,
  type Codec,
  type CodecLike,
  type CodecName,
  type CodecNameTypes,
  type CodecType,
  codecs,
  cstring,
  hostLittleEndian,
  resolveCodec,
} from './codec.ts';
export { ipv4, type LpmKey, lpmKey } from './lpm.ts';
export { fdValue, type HasFd, perCpu, perCpuStride } from './per-cpu.ts';
export {
  array,
  type StructField,
  type StructFields,
  type StructOptions,
  type StructValue,
  struct,
} from './struct.ts';
