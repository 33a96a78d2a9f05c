/**
 * The intermediate description (IR) between extraction and emission: plain JSON, committed under
 * `codegen/ir/`, sorted and free of paths or dates so that it only changes when the kernel's
 * definitions do. It holds C-level facts (C names, values, offsets); naming and grouping into
 * TypeScript exports happens in the emitter, driven by `tables.ts`.
 */

/** Where a fact came from: the header, the kernel's BTF, or the facts table in `facts.ts`. */
export type IrOrigin = 'header' | 'btf' | 'facts';

/** One integer constant (a `#define` or an enumerator). Values beyond 2^53 are kept as decimal strings. */
export interface IrConstant {
  readonly name: string;
  readonly value: number | string;
  readonly from: IrOrigin;
  /** For facts: the kernel release that added the constant. */
  readonly since?: string;
}

/** A C enum: tag (or `(anonymous)` with its first member's name) and its enumerators in order. */
export interface IrEnum {
  readonly name: string;
  readonly anonymous: boolean;
  readonly members: readonly string[];
  readonly from: IrOrigin;
}

/** Scalar kinds a layout field can have. */
export type IrScalar = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64';

/** A member of an aggregate with its byte offset from the start of the outermost aggregate. */
export interface IrMember {
  /** C member name; '' for anonymous structs and unions. */
  readonly name: string;
  /** The C type as written (`__u32`, `__aligned_u64`, `char[16]`, `struct`, `union`, `struct bpf_flow_keys *`). */
  readonly ctype: string;
  readonly offset: number;
  readonly size: number;
  readonly kind: 'scalar' | 'ptr' | 'array' | 'struct' | 'union';
  /** For scalars and pointers: the scalar kind; for arrays: the element's scalar kind (if scalar). */
  readonly scalar?: IrScalar;
  /** For arrays: the element count. */
  readonly count?: number;
  /** For bitfields: bit offset inside the storage unit at `offset`, and width in bits. */
  readonly bitOffset?: number;
  readonly bitSize?: number;
  /** For struct and union members. */
  readonly members?: readonly IrMember[];
}

/** A tagged aggregate (`union bpf_attr`, `struct bpf_prog_info`, ...) with its full layout. */
export interface IrAggregate {
  /** `struct tag` or `union tag`. */
  readonly name: string;
  readonly size: number;
  readonly align: number;
  readonly members: readonly IrMember[];
  readonly from: IrOrigin;
}

/** A helper function: its id, C name and C signature (from the header's documentation or facts). */
export interface IrHelper {
  readonly id: number;
  readonly name: string;
  readonly signature: string | null;
}

/**
 * An errno: its number, what it means (the header's comment) and, for an alias (EWOULDBLOCK), the
 * name it stands for.
 */
export interface IrErrno {
  readonly name: string;
  readonly value: number;
  readonly description: string;
  readonly alias?: string;
  readonly from: IrOrigin;
}

/**
 * Which kernel releases (major.minor) the inputs came from, when known: the header's from the
 * linux/version.h beside it, the BTF's from the running kernel when it is its BTF.
 */
export interface IrSource {
  readonly header: string | null;
  readonly btf: string | null;
}

/** The whole IR, one property per file in `codegen/ir/`. */
export interface Ir {
  readonly source: IrSource;
  readonly constants: readonly IrConstant[];
  readonly enums: readonly IrEnum[];
  readonly aggregates: readonly IrAggregate[];
  readonly helpers: readonly IrHelper[];
  readonly errno: readonly IrErrno[];
}

/** The IR file names, in the order they are written. */
export const IR_FILES = ['source', 'constants', 'enums', 'aggregates', 'helpers', 'errno'] as const;

/** Serializes one IR part deterministically (2-space JSON, trailing newline). */
export function serializeIr(part: unknown): string {
  return `${JSON.stringify(part, null, 2)}\n`;
}
