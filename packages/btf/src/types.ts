/**
 * The BTF model: one class per kind. Types refer to each other by id (a `TypeId`), so a type can
 * be decoded alone, without its dependencies; ask the owning `Btf` to follow an id.
 */
import type { BtfFuncLinkage, BtfVarLinkage } from '@ebpf/uapi';

/** A type's index in its BTF; 0 is `void`. Split BTF continues the numbering of its base. */
export type TypeId = number;

/** `void`, type id 0: never stored, always there. */
export class Void {
  readonly kind = 'void';
  readonly id = 0;
  readonly name = '';
}

/** An integer type (`int`, `unsigned char`, `_Bool`, ...): its size, signedness and bit width. */
export class Int {
  readonly kind = 'int';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    /** Bytes of storage. */
    readonly size: number,
    /** `BtfIntEncoding` bits (signed, char, bool). */
    readonly encoding: number,
    /** Offset of the value's first bit within its storage (0 for all that compilers emit). */
    readonly bitOffset: number,
    /** Bits of value. */
    readonly bits: number,
  ) {}
}

/** A floating-point type (`float`, `double`) of `size` bytes. */
export class Float {
  readonly kind = 'float';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly size: number,
  ) {}
}

/** A type that only points at another: pointers, typedefs and the qualifiers. */
abstract class Reference {
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly target: TypeId,
  ) {}
}
/** A pointer to `target`. */
export class Ptr extends Reference {
  readonly kind = 'ptr';
}
/** A `typedef` that names `target`. */
export class Typedef extends Reference {
  readonly kind = 'typedef';
}
/** The `volatile` qualifier on `target`. */
export class Volatile extends Reference {
  readonly kind = 'volatile';
}
/** The `const` qualifier on `target`. */
export class Const extends Reference {
  readonly kind = 'const';
}
/** The `restrict` qualifier on `target`. */
export class Restrict extends Reference {
  readonly kind = 'restrict';
}
/** `__attribute__((btf_type_tag(name)))` on the target, or `__attribute__((name))` if `attribute`. */
export class TypeTag extends Reference {
  readonly kind = 'type_tag';
  constructor(
    id: TypeId,
    name: string,
    target: TypeId,
    /** The kind flag: the name is a whole C attribute (`address_space(1)`), not a BTF tag. */
    readonly attribute = false,
  ) {
    super(id, name, target);
  }
}

/** `element[count]`; the class is not called `Array` so as not to shadow the global. */
export class ArrayType {
  readonly kind = 'array';
  readonly name = '';
  constructor(
    readonly id: TypeId,
    readonly element: TypeId,
    readonly index: TypeId,
    readonly count: number,
  ) {}
}

/** A member of a {@link Struct} or {@link Union}: its name, type and place in bits. */
export interface Member {
  readonly name: string;
  readonly type: TypeId;
  /** Bits from the start of the struct to the member's first bit. */
  readonly bitOffset: number;
  /** Width of a bitfield in bits; 0 for a member that is not a bitfield. */
  readonly bitfieldSize: number;
}

abstract class Composite {
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly size: number,
    readonly members: readonly Member[],
  ) {}
}
/** A `struct` of `size` bytes and its members. */
export class Struct extends Composite {
  readonly kind = 'struct';
}
/** A `union` of `size` bytes and its members (every member at bit offset 0, unless a bitfield). */
export class Union extends Composite {
  readonly kind = 'union';
}

/** One enumerator of an {@link Enum} (`number` values) or {@link Enum64} (`bigint` values). */
export interface EnumValue<V> {
  readonly name: string;
  readonly value: V;
}
/** An `enum` of up to 32-bit values; `signed` tells how to read them. */
export class Enum {
  readonly kind = 'enum';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly size: number,
    readonly signed: boolean,
    readonly values: readonly EnumValue<number>[],
  ) {}
}
/** An `enum` with 64-bit values (`BTF_KIND_ENUM64`), as `bigint`. */
export class Enum64 {
  readonly kind = 'enum64';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly size: number,
    readonly signed: boolean,
    readonly values: readonly EnumValue<bigint>[],
  ) {}
}

/** `struct name;` or `union name;` declared but not defined here. */
export class Fwd {
  readonly kind = 'fwd';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly union: boolean,
  ) {}
}

/** A function: its name, its {@link FuncProto} and its linkage (static, global, extern). */
export class Func {
  readonly kind = 'func';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    /** The `FuncProto`. */
    readonly proto: TypeId,
    readonly linkage: BtfFuncLinkage,
  ) {}
}

/** A parameter of a {@link FuncProto}; `name` is `''` when the prototype does not name it. */
export interface Param {
  readonly name: string;
  readonly type: TypeId;
}
/** A function prototype: return type and parameters, without a name (a {@link Func} names one). */
export class FuncProto {
  readonly kind = 'func_proto';
  readonly name = '';
  constructor(
    readonly id: TypeId,
    readonly returns: TypeId,
    /** Parameters; a `...` prototype ends with `{ name: '', type: 0 }`. */
    readonly params: readonly Param[],
  ) {}
}

/** A global or static variable, listed by the {@link Datasec} of its ELF section. */
export class Var {
  readonly kind = 'var';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly type: TypeId,
    readonly linkage: BtfVarLinkage,
  ) {}
}

/** Where one variable (or extern function) of a {@link Datasec} sits: byte offset and size. */
export interface VarSecinfo {
  /** The `Var` (or `Func` for externs). */
  readonly type: TypeId;
  readonly offset: number;
  readonly size: number;
}
/** An ELF data section (`.data`, `.bss`, `.rodata`, `.kconfig`, `.ksyms`) and the variables in it. */
export class Datasec {
  readonly kind = 'datasec';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly size: number,
    readonly vars: readonly VarSecinfo[],
  ) {}
}

/**
 * `__attribute__((btf_decl_tag(name)))` on a type, or on one member/parameter of it;
 * `__attribute__((name))` if `attribute`.
 */
export class DeclTag {
  readonly kind = 'decl_tag';
  constructor(
    readonly id: TypeId,
    readonly name: string,
    readonly target: TypeId,
    /** Index of the member or parameter tagged; -1 for the whole type. */
    readonly componentIndex: number,
    /** The kind flag: the name is a whole C attribute, not a BTF tag. */
    readonly attribute = false,
  ) {}
}

/** Any BTF type: the union of the kind classes, discriminated by `kind`. */
export type Type =
  | Void
  | Int
  | Float
  | Ptr
  | Typedef
  | Volatile
  | Const
  | Restrict
  | TypeTag
  | ArrayType
  | Struct
  | Union
  | Enum
  | Enum64
  | Fwd
  | Func
  | FuncProto
  | Var
  | Datasec
  | DeclTag;

/** The `kind` of a {@link Type}. */
export type Kind = Type['kind'];
