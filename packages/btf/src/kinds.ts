/** The raw `BTF_KIND_*` number of each model kind (`void` is id 0, not a kind). */
import { BtfKind } from '@ebpf/uapi';
import type { Kind } from './types.ts';

export const KIND_NUMBER = {
  int: BtfKind.Int,
  ptr: BtfKind.Ptr,
  array: BtfKind.Array,
  struct: BtfKind.Struct,
  union: BtfKind.Union,
  enum: BtfKind.Enum,
  fwd: BtfKind.Fwd,
  typedef: BtfKind.Typedef,
  volatile: BtfKind.Volatile,
  const: BtfKind.Const,
  restrict: BtfKind.Restrict,
  func: BtfKind.Func,
  func_proto: BtfKind.FuncProto,
  var: BtfKind.Var,
  datasec: BtfKind.Datasec,
  float: BtfKind.Float,
  decl_tag: BtfKind.DeclTag,
  type_tag: BtfKind.TypeTag,
  enum64: BtfKind.Enum64,
} as const satisfies Record<Exclude<Kind, 'void'>, number>;
