/**
 * A small reader for the BTF binary format (`/sys/kernel/btf/vmlinux`): header, type section and
 * string section. It understands every kind up to BTF_KIND_ENUM64 and keeps the rest as opaque
 * entries so type ids stay right. Only what the generator and its cross-check tests need.
 */

/** BTF kinds (`BTF_KIND_*` of include/uapi/linux/btf.h). */
export const BtfKind = {
  Unknown: 0,
  Int: 1,
  Ptr: 2,
  Array: 3,
  Struct: 4,
  Union: 5,
  Enum: 6,
  Fwd: 7,
  Typedef: 8,
  Volatile: 9,
  Const: 10,
  Restrict: 11,
  Func: 12,
  FuncProto: 13,
  Var: 14,
  Datasec: 15,
  Float: 16,
  DeclTag: 17,
  TypeTag: 18,
  Enum64: 19,
} as const;

/** A member of a BTF struct or union. `bitSize` is 0 for a plain (non-bitfield) member. */
export interface BtfMember {
  readonly name: string;
  readonly type: number;
  readonly bitOffset: number;
  readonly bitSize: number;
}

/** A BTF enum (or enum64) value; `value` is a bigint so 64-bit enumerators survive. */
export interface BtfEnumValue {
  readonly name: string;
  readonly value: bigint;
}

/** One decoded BTF type. Fields beyond `kind`/`name` are present for the kinds that carry them. */
export type BtfType =
  | { readonly kind: 'void'; readonly name: '' }
  | {
      readonly kind: 'int';
      readonly name: string;
      readonly size: number;
      readonly signed: boolean;
      readonly bits: number;
    }
  | { readonly kind: 'float'; readonly name: string; readonly size: number }
  | { readonly kind: 'ptr'; readonly name: string; readonly type: number }
  | { readonly kind: 'array'; readonly name: string; readonly type: number; readonly nelems: number }
  | {
      readonly kind: 'struct' | 'union';
      readonly name: string;
      readonly size: number;
      readonly members: readonly BtfMember[];
    }
  | {
      readonly kind: 'enum';
      readonly name: string;
      readonly size: number;
      readonly signed: boolean;
      readonly values: readonly BtfEnumValue[];
    }
  | { readonly kind: 'fwd'; readonly name: string; readonly union: boolean }
  | {
      readonly kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
      readonly name: string;
      readonly type: number;
    }
  | { readonly kind: 'other'; readonly name: string; readonly btfKind: number };

/** A parsed BTF blob: `types[id]` is the type with that id (`types[0]` is void). */
export interface Btf {
  readonly types: readonly BtfType[];
  /** All ids whose type has the given name (several for anonymous or duplicated names). */
  byName(name: string): number[];
}

/** Thrown when the input is not valid BTF; the message says where it went wrong. */
export class BtfError extends Error {
  override name = 'BtfError';
}

const MAGIC = 0xeb9f;

/** Parses a BTF blob (little- or big-endian). Throws {@link BtfError} on malformed input. */
export function parseBtf(data: Uint8Array, source = 'BTF'): Btf {
  if (data.length < 24) throw new BtfError(`${source}: too short for a BTF header (${data.length} bytes)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let le = true;
  if (view.getUint16(0, true) !== MAGIC) {
    if (view.getUint16(0, false) !== MAGIC) throw new BtfError(`${source}: bad magic, not a BTF blob`);
    le = false;
  }
  const hdrLen = view.getUint32(4, le);
  const typeOff = view.getUint32(8, le);
  const typeLen = view.getUint32(12, le);
  const strOff = view.getUint32(16, le);
  const strLen = view.getUint32(20, le);
  const typesStart = hdrLen + typeOff;
  const strStart = hdrLen + strOff;
  if (typesStart + typeLen > data.length || strStart + strLen > data.length) {
    throw new BtfError(`${source}: section extends past the end of the blob`);
  }
  const decoder = new TextDecoder();
  const str = (off: number): string => {
    if (off >= strLen) throw new BtfError(`${source}: string offset ${off} out of range`);
    let end = strStart + off;
    while (end < strStart + strLen && data[end] !== 0) end++;
    return decoder.decode(data.subarray(strStart + off, end));
  };

  const types: BtfType[] = [{ kind: 'void', name: '' }];
  let p = typesStart;
  const end = typesStart + typeLen;
  const u32 = (): number => {
    if (p + 4 > end) throw new BtfError(`${source}: truncated type section at offset ${p - typesStart}`);
    const v = view.getUint32(p, le);
    p += 4;
    return v;
  };
  const i32 = (): number => {
    const v = u32();
    return v | 0;
  };
  while (p < end) {
    const name = str(u32());
    const info = u32();
    const sizeOrType = u32();
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kindFlag = info >>> 31 === 1;
    switch (kind) {
      case BtfKind.Int: {
        const enc = u32();
        types.push({
          kind: 'int',
          name,
          size: sizeOrType,
          signed: ((enc >>> 24) & 1) === 1,
          bits: enc & 0xff,
        });
        break;
      }
      case BtfKind.Float:
        types.push({ kind: 'float', name, size: sizeOrType });
        break;
      case BtfKind.Ptr:
        types.push({ kind: 'ptr', name, type: sizeOrType });
        break;
      case BtfKind.Array: {
        const type = u32();
        u32(); // index type
        const nelems = u32();
        types.push({ kind: 'array', name, type, nelems });
        break;
      }
      case BtfKind.Struct:
      case BtfKind.Union: {
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++) {
          const mname = str(u32());
          const type = u32();
          const off = u32();
          members.push(
            kindFlag
              ? { name: mname, type, bitOffset: off & 0xffffff, bitSize: off >>> 24 }
              : { name: mname, type, bitOffset: off, bitSize: 0 },
          );
        }
        types.push({ kind: kind === BtfKind.Struct ? 'struct' : 'union', name, size: sizeOrType, members });
        break;
      }
      case BtfKind.Enum: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++) {
          const vname = str(u32());
          const raw = u32();
          values.push({ name: vname, value: kindFlag ? BigInt(raw | 0) : BigInt(raw) });
        }
        types.push({ kind: 'enum', name, size: sizeOrType, signed: kindFlag, values });
        break;
      }
      case BtfKind.Enum64: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++) {
          const vname = str(u32());
          const lo = BigInt(u32());
          const hi = BigInt(u32());
          const v = (hi << 32n) | lo;
          values.push({ name: vname, value: kindFlag ? BigInt.asIntN(64, v) : v });
        }
        types.push({ kind: 'enum', name, size: sizeOrType, signed: kindFlag, values });
        break;
      }
      case BtfKind.Fwd:
        types.push({ kind: 'fwd', name, union: kindFlag });
        break;
      case BtfKind.Typedef:
        types.push({ kind: 'typedef', name, type: sizeOrType });
        break;
      case BtfKind.Volatile:
        types.push({ kind: 'volatile', name, type: sizeOrType });
        break;
      case BtfKind.Const:
        types.push({ kind: 'const', name, type: sizeOrType });
        break;
      case BtfKind.Restrict:
        types.push({ kind: 'restrict', name, type: sizeOrType });
        break;
      case BtfKind.TypeTag:
        types.push({ kind: 'type_tag', name, type: sizeOrType });
        break;
      case BtfKind.Func:
      case BtfKind.Datasec:
        if (kind === BtfKind.Datasec) p += 12 * vlen;
        types.push({ kind: 'other', name, btfKind: kind });
        break;
      case BtfKind.FuncProto:
        p += 8 * vlen;
        types.push({ kind: 'other', name, btfKind: kind });
        break;
      case BtfKind.Var:
      case BtfKind.DeclTag:
        i32();
        types.push({ kind: 'other', name, btfKind: kind });
        break;
      default:
        throw new BtfError(`${source}: unknown BTF kind ${kind} for type id ${types.length}`);
    }
  }
  if (p !== end) throw new BtfError(`${source}: type section overruns its length`);

  let index: Map<string, number[]> | undefined;
  return {
    types,
    byName(n: string): number[] {
      if (!index) {
        index = new Map();
        types.forEach((t, id) => {
          if (!t.name) return;
          const list = index!.get(t.name);
          if (list) list.push(id);
          else index!.set(t.name, [id]);
        });
      }
      return index.get(n) ?? [];
    },
  };
}

/** Follows typedefs and modifiers (const, volatile, restrict, type tags) to the underlying type id. */
export function resolveType(btf: Btf, id: number): number {
  for (let guard = 0; guard < 64; guard++) {
    const t = btf.types[id];
    if (!t) throw new BtfError(`type id ${id} out of range`);
    if (
      t.kind === 'typedef' ||
      t.kind === 'volatile' ||
      t.kind === 'const' ||
      t.kind === 'restrict' ||
      t.kind === 'type_tag'
    ) {
      id = t.type;
    } else {
      return id;
    }
  }
  throw new BtfError(`type id ${id}: modifier chain too long`);
}

/** Size in bytes of a BTF type (following typedefs and modifiers). */
export function btfSizeOf(btf: Btf, id: number): number {
  const t = btf.types[resolveType(btf, id)]!;
  switch (t.kind) {
    case 'int':
    case 'float':
    case 'struct':
    case 'union':
    case 'enum':
      return t.size;
    case 'ptr':
      return 8;
    case 'array':
      return t.nelems * btfSizeOf(btf, t.type);
    default:
      throw new BtfError(`type id ${id} (${t.kind}) has no size`);
  }
}

/** Finds the one struct/union/enum named `name` of that kind (first if duplicated), or undefined. */
export function findNamed<K extends 'struct' | 'union' | 'enum'>(
  btf: Btf,
  kind: K,
  name: string,
):
  | { id: number; type: Extract<BtfType, { kind: K extends 'enum' ? 'enum' : 'struct' | 'union' }> }
  | undefined {
  for (const id of btf.byName(name)) {
    const t = btf.types[id]!;
    if (t.kind === kind) {
      return { id, type: t as Extract<BtfType, { kind: K extends 'enum' ? 'enum' : 'struct' | 'union' }> };
    }
  }
  return undefined;
}
