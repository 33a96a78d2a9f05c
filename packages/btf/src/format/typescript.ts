/**
 * BTF types as TypeScript declarations, plus the layout facts a codec generator needs. Structs
 * and unions become interfaces with the C field names; enums a `const` object and its value
 * type; typedefs type aliases. 64-bit (and wider) integers are `bigint`, narrower ones `number`,
 * `char[N]` a `string`, other arrays JavaScript arrays, pointers `bigint` (an address).
 * Anonymous members are flattened into their parent, as C lets code name them; padding is laid
 * out in the facts but not a field. A pure function: `ebpf gen` prints the result with ts-morph.
 */
import { BtfIntEncoding } from '@ebpf/uapi';
import type { Btf } from '../btf.ts';
import { BtfError } from '../error.ts';
import type { Enum, Enum64, Struct, Type, Typedef, TypeId, Union } from '../types.ts';
import { Layout, POINTER_SIZE } from './layout.ts';

/** Options of {@link toTypeScript}. */
export interface TypeScriptOptions {
  /** A TSDoc comment on each declaration and field with its C type and place (default true). */
  readonly comments?: boolean;
}

/** What {@link toTypeScript} returns: the module's code and, per declaration, its layout. */
export interface TypeScriptOutput {
  /** Every declaration's code, dependencies first. */
  readonly code: string;
  readonly declarations: readonly TsDeclaration[];
  /** Byte order of the BTF, so of the values the layouts describe. */
  readonly littleEndian: boolean;
}

/** One exported TypeScript declaration and the layout of its values. */
export type TsDeclaration = TsRecordDeclaration | TsEnumDeclaration | TsAliasDeclaration;

interface TsDeclarationBase {
  /** The TypeScript name: the C name, suffixed `___2`, `___3` (as in C dumps) or `_` where it would clash. */
  readonly name: string;
  /** The BTF type declared (for a typedef of an anonymous struct, the struct). */
  readonly typeId: TypeId;
  readonly code: string;
}
/** An interface for a C struct or union, with its size, alignment and fields. */
export interface TsRecordDeclaration extends TsDeclarationBase {
  readonly kind: 'struct' | 'union';
  readonly size: number;
  readonly align: number;
  readonly fields: readonly TsField[];
}
/** A `const` object and type for a C enum. */
export interface TsEnumDeclaration extends TsDeclarationBase {
  readonly kind: 'enum';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly { readonly name: string; readonly value: number | bigint }[];
}
/** A type alias for a C typedef of a scalar, array or pointer. */
export interface TsAliasDeclaration extends TsDeclarationBase {
  readonly kind: 'typedef';
  readonly value: TsValue;
}

/** A field of an interface, where its bytes are. */
export interface TsField {
  readonly name: string;
  /** Bytes from the start of the record to the field (for a bitfield, to the byte of its first bit). */
  readonly offset: number;
  /** Bytes of the field's type (for a bitfield, of its storage unit). */
  readonly size: number;
  /** Bits from the start of the record to the field's first bit. */
  readonly bitOffset: number;
  /** Width of a bitfield in bits; 0 for a field that is not one. */
  readonly bitSize: number;
  readonly value: TsValue;
}

/** How to read one value: the codec's view of a C type, through typedefs and qualifiers. */
export type TsValue =
  | { readonly kind: 'int'; readonly size: number; readonly signed: boolean }
  | { readonly kind: 'bool'; readonly size: number }
  | { readonly kind: 'float'; readonly size: number }
  | { readonly kind: 'pointer'; readonly size: number }
  /** `char[size]`: NUL-terminated text. */
  | { readonly kind: 'string'; readonly size: number }
  | { readonly kind: 'array'; readonly count: number; readonly stride: number; readonly element: TsValue }
  /** `name` is the declaration of a named enum; absent for an anonymous one. */
  | { readonly kind: 'enum'; readonly size: number; readonly signed: boolean; readonly name?: string }
  /** A named struct or union, declared apart. */
  | { readonly kind: 'record'; readonly name: string }
  /** An anonymous struct or union member with a name: its fields, relative to its own start. */
  | {
      readonly kind: 'inline';
      readonly union: boolean;
      readonly size: number;
      readonly fields: readonly TsField[];
    };

/**
 * Declares `types` (structs, unions, enums, typedefs; ids or types of `btf`) and every type
 * their values contain, in TypeScript. Types behind pointers are not followed: a pointer is a
 * `bigint`.
 */
export function toTypeScript(
  btf: Btf,
  types: readonly (TypeId | Type)[],
  options: TypeScriptOptions = {},
): TypeScriptOutput {
  const printer = new TsPrinter(btf, options.comments ?? true);
  for (const t of types) printer.root(typeof t === 'number' ? t : t.id);
  const { declarations } = printer;
  return { code: declarations.map((d) => d.code).join('\n'), declarations, littleEndian: btf.littleEndian };
}

/** Names TypeScript does not allow for a type or a const. */
const RESERVED = new Set(
  (
    'any bigint boolean break case catch class const continue debugger default delete do else enum export ' +
    'extends false finally for function if implements import in instanceof interface let never new null ' +
    'number object package private protected public return static string super switch symbol this throw ' +
    'true try type typeof undefined unknown var void while with yield'
  ).split(' '),
);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const MAX_DEPTH = 256;
/** The most fields one declaration may have, inlined ones included (task_struct has hundreds). */
const MAX_FIELDS = 100_000;

/** `/** text *\/`, with any `*\/` in C names broken so the comment cannot end early. */
const comment = (text: string): string => `/** ${text.replaceAll('*/', '* /')} */`;

interface Value {
  readonly value: TsValue;
  /** Its TypeScript type. */
  readonly ts: string;
}

class TsPrinter {
  readonly declarations: TsDeclaration[] = [];
  private readonly layout: Layout;
  /** TypeScript names of the types declared or being declared. */
  private readonly names = new Map<TypeId, string>();
  private readonly taken = new Map<string, number>();
  /** Fields the declaration being written may still have. */
  private budget = MAX_FIELDS;

  constructor(
    private readonly btf: Btf,
    private readonly comments: boolean,
  ) {
    this.layout = new Layout(btf);
  }

  root(id: TypeId): void {
    const t = this.unqualified(id);
    if (t.kind === 'typedef') {
      const named = this.btf.resolve(t.id).kind;
      if (named === 'func_proto' || named === 'void' || named === 'fwd')
        throw new BtfError(
          `typedef ${t.name} (type ${id}) names a ${named}, not a value TypeScript can declare`,
          -1,
        );
      this.typedef(t);
    } else if ((t.kind === 'enum' || t.kind === 'enum64') && t.name !== '') {
      this.enumeration(t);
    } else if ((t.kind === 'struct' || t.kind === 'union') && t.name !== '') {
      this.record(t, t.name);
    } else {
      throw new BtfError(
        `type ${id} (${this.btf.nameOf(id)}) cannot be declared in TypeScript: pass a named struct, union, enum or typedef`,
        -1,
      );
    }
  }

  /** The value of a field or array element of type `id`. */
  private value(id: TypeId, depth = 0): Value {
    if (depth > MAX_DEPTH) throw new BtfError(`type ${id} refers to itself`, -1);
    const t = this.btf.typeById(id);
    switch (t.kind) {
      case 'const':
      case 'volatile':
      case 'restrict':
      case 'type_tag':
        return this.value(t.target, depth + 1);
      case 'typedef': {
        const ts = this.typedef(t);
        // A typedef of an anonymous struct declares the struct under the typedef's name.
        const target = this.unqualified(t.target);
        const declared = (target.kind === 'struct' || target.kind === 'union') && target.name === '';
        return { value: declared ? { kind: 'record', name: ts } : this.value(t.target, depth + 1).value, ts };
      }
      case 'int':
        if (t.encoding & BtfIntEncoding.Bool) return { value: { kind: 'bool', size: t.size }, ts: 'boolean' };
        return {
          value: { kind: 'int', size: t.size, signed: (t.encoding & BtfIntEncoding.Signed) !== 0 },
          ts: t.size >= 8 ? 'bigint' : 'number',
        };
      case 'float':
        return { value: { kind: 'float', size: t.size }, ts: 'number' };
      case 'ptr':
        return { value: { kind: 'pointer', size: POINTER_SIZE }, ts: 'bigint' };
      case 'array': {
        if (this.isChar(t.element)) return { value: { kind: 'string', size: t.count }, ts: 'string' };
        const element = this.value(t.element, depth + 1);
        const stride = this.layout.sizeOf(t.element);
        const ts =
          /^[\w$]+$/.test(element.ts) || element.ts.endsWith('[]') ? `${element.ts}[]` : `(${element.ts})[]`;
        return { value: { kind: 'array', count: t.count, stride, element: element.value }, ts };
      }
      case 'struct':
      case 'union': {
        if (t.name !== '')
          return { value: { kind: 'record', name: this.record(t, t.name) }, ts: this.names.get(t.id)! };
        const fields: TsField[] = [];
        const members: string[] = [];
        this.fields(t, 0, fields, members, depth, false);
        const value: TsValue = { kind: 'inline', union: t.kind === 'union', size: t.size, fields };
        return { value, ts: `{ ${members.map((m) => `${m};`).join(' ')} }` };
      }
      case 'enum':
      case 'enum64': {
        const ts = t.name !== '' ? this.enumeration(t) : t.kind === 'enum64' ? 'bigint' : 'number';
        return {
          value: { kind: 'enum', size: t.size, signed: t.signed, ...(t.name !== '' && { name: ts }) },
          ts,
        };
      }
      default:
        throw new BtfError(`type ${id} (${t.kind}) is not a value a field can hold`, -1);
    }
  }

  /** Declares a struct or union (under `name`: its own, or its typedef's when anonymous); its TypeScript name. */
  private record(t: Struct | Union, name: string): string {
    const known = this.names.get(t.id);
    if (known !== undefined) return known;
    const ts = this.claim(t.id, name);
    const fields: TsField[] = [];
    const members: string[] = [];
    const outer = this.budget;
    this.budget = MAX_FIELDS;
    this.fields(t, 0, fields, members, 0, this.comments);
    this.budget = outer;
    const c = t.name !== '' ? `${t.kind} ${t.name}` : `typedef ${t.kind} { ... } ${name}`;
    const head = this.doc(`\`${c}\`: ${t.size} bytes`);
    const body = members.map((m) => `  ${m};\n`).join('');
    this.declarations.push({
      kind: t.kind,
      name: ts,
      typeId: t.id,
      size: t.size,
      align: this.layout.alignOf(t.id),
      fields,
      code: `${head}export interface ${ts} {\n${body}}\n`,
    });
    return ts;
  }

  /** Appends the fields of `t` (at `base` bits into the outer record) and their TypeScript members. */
  private fields(
    t: Struct | Union,
    base: number,
    fields: TsField[],
    members: string[],
    depth: number,
    documented: boolean,
  ): void {
    for (const m of t.members) {
      // Anonymous types are inlined where used; hostile BTF nesting shared ones grows exponentially.
      if (--this.budget < 0)
        throw new BtfError(`type ${t.id} makes a declaration of over ${MAX_FIELDS} fields`, -1);
      const bitOffset = base + m.bitOffset;
      if (m.name === '') {
        // An anonymous struct or union: C names its members as the parent's. Anything else unnamed is padding.
        const inner = this.unqualified(m.type);
        if (inner.kind === 'struct' || inner.kind === 'union')
          this.fields(inner, bitOffset, fields, members, depth + 1, documented);
        continue;
      }
      const { value, ts } = this.value(m.type, depth + 1);
      const field: TsField = {
        name: m.name,
        offset: Math.floor(bitOffset / 8),
        size: this.layout.sizeOf(m.type),
        bitOffset,
        bitSize: m.bitfieldSize,
        value,
      };
      fields.push(field);
      // A bitfield of an integer type is as wide as its bits, not its storage.
      const type =
        m.bitfieldSize !== 0 && value.kind === 'int' ? (m.bitfieldSize > 32 ? 'bigint' : 'number') : ts;
      const where =
        m.bitfieldSize !== 0 ? `bits ${bitOffset}..${bitOffset + m.bitfieldSize}` : `byte ${field.offset}`;
      const doc = documented ? `${comment(`\`${this.btf.nameOf(m.type)}\`, ${where}`)}\n  ` : '';
      members.push(`${doc}${IDENTIFIER.test(m.name) ? m.name : JSON.stringify(m.name)}: ${type}`);
    }
  }

  private enumeration(t: Enum | Enum64): string {
    const known = this.names.get(t.id);
    if (known !== undefined) return known;
    const ts = this.claim(t.id, t.name);
    const head = this.doc(`\`enum ${t.name}\`: ${t.size} bytes, ${t.signed ? 'signed' : 'unsigned'}`);
    const big = t.kind === 'enum64';
    let code: string;
    if (t.values.length === 0) {
      code = `${head}export type ${ts} = ${big ? 'bigint' : 'number'};\n`;
    } else {
      const entries = t.values.map((v) => `  ${v.name}: ${v.value}${big ? 'n' : ''},\n`).join('');
      code = `${head}export const ${ts} = {\n${entries}} as const;\nexport type ${ts} = (typeof ${ts})[keyof typeof ${ts}];\n`;
    }
    const values = t.values.map((v) => ({ name: v.name, value: v.value }));
    this.declarations.push({
      kind: 'enum',
      name: ts,
      typeId: t.id,
      size: t.size,
      signed: t.signed,
      values,
      code,
    });
    return ts;
  }

  /** Declares a typedef; its TypeScript name (the tag's for `typedef struct x x`, and the struct for an anonymous one). */
  private typedef(t: Typedef): string {
    const known = this.names.get(t.id);
    if (known !== undefined) return known;
    const target = this.unqualified(t.target);
    if (target.kind === 'struct' || target.kind === 'union') {
      if (target.name === '') return this.alias(t, this.record(target, t.name));
      if (target.name === t.name) return this.alias(t, this.record(target, target.name));
    }
    if ((target.kind === 'enum' || target.kind === 'enum64') && target.name === t.name)
      return this.alias(t, this.enumeration(target));
    const ts = this.claim(t.id, t.name);
    const { value, ts: type } = this.value(t.target);
    const head = this.doc(`\`typedef ${this.btf.nameOf(t.target)} ${t.name}\``);
    this.declarations.push({
      kind: 'typedef',
      name: ts,
      typeId: t.id,
      value,
      code: `${head}export type ${ts} = ${type};\n`,
    });
    return ts;
  }

  /** A typedef that names a declaration already made under the same TypeScript name. */
  private alias(t: Typedef, name: string): string {
    this.names.set(t.id, name);
    return name;
  }

  /** Picks a free TypeScript name for `id` from its C name. */
  private claim(id: TypeId, name: string): string {
    const base = RESERVED.has(name) || !IDENTIFIER.test(name) ? `${name.replace(/[^\w$]/g, '_')}_` : name;
    const n = (this.taken.get(base) ?? 0) + 1;
    this.taken.set(base, n);
    const ts = n > 1 ? `${base}___${n}` : base;
    this.names.set(id, ts);
    return ts;
  }

  /** A TSDoc line before a declaration, if comments are wanted. */
  private doc(text: string): string {
    return this.comments ? `${comment(text)}\n` : '';
  }

  /** Whether elements of type `id` are C `char`: an array of them is text. */
  private isChar(id: TypeId): boolean {
    const t = this.btf.resolve(id);
    return (
      t.kind === 'int' && t.size === 1 && (t.name === 'char' || (t.encoding & BtfIntEncoding.Char) !== 0)
    );
  }

  private unqualified(id: TypeId): Type {
    let t = this.btf.typeById(id);
    for (
      let depth = 0;
      t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag';
      depth++
    ) {
      if (depth > MAX_DEPTH) throw new BtfError(`type ${id} refers to itself through qualifiers`, -1);
      t = this.btf.typeById(t.target);
    }
    return t;
  }
}
