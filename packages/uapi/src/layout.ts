/**
 * The shape of the generated layouts (`MapCreateAttr`, `ProgInfo`, ...): byte offsets and sizes
 * of each field of a kernel struct, LP64, nested members flattened with their absolute offsets.
 */

/** How a field is read and written. `'ptr'` is a 64-bit field holding a user-space address. */
export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'ptr' | 'bytes';

/** One field: where it is, how big, and its type. */
export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
  readonly type: FieldType;
  /** For `'bytes'` fields that are arrays of wider integers (`__u32 cb[5]`): the element type... */
  readonly elem?: FieldType;
  /** ...and the element count. */
  readonly count?: number;
  /** For bitfields: the bit offset inside the `size`-byte unit at `offset` (little-endian bit order)... */
  readonly bitOffset?: number;
  /** ...and the width in bits. */
  readonly bitSize?: number;
}

/** A struct (or one `union bpf_attr` member): its name for messages, its size, its fields by camelCase name. */
export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly fields: { readonly [name: string]: FieldLayout };
}

/**
 * Names of the fields of `L` whose type is one of `T`. For a layout typed only as
 * `StructLayout` (not a generated constant), any name: the checks then happen at run time.
 */
export type FieldsOfType<L extends StructLayout, T extends FieldType> = string extends keyof L['fields']
  ? string
  : {
      [K in keyof L['fields']]: L['fields'][K]['type'] extends T ? K : never;
    }[keyof L['fields']] &
      string;
