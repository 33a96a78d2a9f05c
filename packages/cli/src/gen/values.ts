/**
 * How one C value is read in TypeScript: the `@ebpf/core` codec expression that decodes it and
 * the TypeScript type it decodes to. Declared types (structs, unions, enums, typedefs) are named
 * `<name>Codec`; everything else is spelled out from the built-in codecs.
 */
import type { Btf, TsField, TsValue, Type, TypeId } from '@ebpf/btf';
import { BtfIntEncoding } from '@ebpf/uapi';
import { CliError } from '../exit-codes.ts';

/** A codec expression and the type of what it reads. */
export interface Typed {
  readonly ts: string;
  readonly codec: string;
}

/** The name of the codec constant of the declaration `name`. */
export const codecName = (name: string): string => `${name}Codec`;

const QUALIFIERS = new Set(['const', 'volatile', 'restrict', 'type_tag']);

/** The built-in codec of an integer `size` bytes wide. */
function intCodec(size: number, signed: boolean, where: string): string {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
    throw new CliError(`${where}: a ${size * 8}-bit integer has no codec; use a narrower type in C`);
  return `codecs.${signed ? 'i' : 'u'}${size * 8}`;
}

/** The codec expression of a field or element value, as `toTypeScript` describes it. */
export function codecOf(value: TsValue, where: string): string {
  switch (value.kind) {
    case 'int':
      return intCodec(value.size, value.signed, where);
    case 'bool':
      return 'codecs.bool';
    case 'float':
      return value.size === 4 ? 'codecs.f32' : 'codecs.f64';
    case 'pointer':
      return 'codecs.u64';
    case 'string':
      return `cstring(${value.size})`;
    case 'array':
      return `array(${codecOf(value.element, where)}, ${value.count})`;
    case 'enum':
      return value.name !== undefined ? codecName(value.name) : intCodec(value.size, value.signed, where);
    case 'record':
      return codecName(value.name);
    case 'inline':
      return recordCodec(value.fields, value.size, value.union, undefined, where);
  }
}

/** `struct({...}, { size })` or `union({...}, { size })` of `fields` (offsets from the record's start). */
export function recordCodec(
  fields: readonly TsField[],
  size: number,
  isUnion: boolean,
  name: string | undefined,
  where: string,
): string {
  const members = fields.map(
    (f) => `${JSON.stringify(f.name)}: ${fieldCodec(f, isUnion, `${where}.${f.name}`)}`,
  );
  const options = `{ size: ${size}${name !== undefined ? `, name: ${JSON.stringify(name)}` : ''} }`;
  return `${isUnion ? 'union' : 'struct'}({ ${members.join(', ')} }, ${options})`;
}

/** A struct member is `[codec, offset]`, a union member its codec (all sit at 0). */
function fieldCodec(field: TsField, inUnion: boolean, where: string): string {
  if (field.bitSize === 0) {
    const codec = codecOf(field.value, where);
    return inUnion ? codec : `[${codec}, ${field.offset}]`;
  }
  const v = field.value;
  const kind =
    v.kind === 'bool' ? 'bool' : (v.kind === 'int' || v.kind === 'enum') && v.signed ? 'signed' : 'unsigned';
  let codec = `bitfield(${field.bitOffset % 8}, ${field.bitSize}, '${kind}')`;
  // The interface types an enum bitfield by its enum; the bits read as a plain number.
  if (v.kind === 'enum' && v.name !== undefined) codec = `(${codec} as Codec<${v.name}>)`;
  return inUnion && field.offset === 0 ? codec : `[${codec}, ${field.offset}]`;
}

/**
 * The codec and type of a map's key or value of BTF type `id`: a declared type by its name
 * (`names`: type id to TypeScript name), a scalar or array spelled out; undefined for what has
 * no codec (an anonymous struct, void).
 */
export function typedOf(btf: Btf, id: TypeId, names: ReadonlyMap<TypeId, string>): Typed | undefined {
  let t = btf.typeById(id);
  for (let depth = 0; depth < 256; depth++) {
    const declared = names.get(t.id);
    if (declared !== undefined) return { ts: declared, codec: codecName(declared) };
    if (QUALIFIERS.has(t.kind) || t.kind === 'typedef') {
      t = btf.typeById((t as { target: TypeId }).target);
      continue;
    }
    return scalar(btf, t, names);
  }
  return undefined;
}

function scalar(btf: Btf, t: Type, names: ReadonlyMap<TypeId, string>): Typed | undefined {
  const where = `type ${t.id} (${btf.nameOf(t.id)})`;
  switch (t.kind) {
    case 'int':
      if (t.encoding & BtfIntEncoding.Bool) return { ts: 'boolean', codec: 'codecs.bool' };
      return {
        ts: t.size >= 8 ? 'bigint' : 'number',
        codec: intCodec(t.size, (t.encoding & BtfIntEncoding.Signed) !== 0, where),
      };
    case 'enum':
    case 'enum64':
      return { ts: t.size >= 8 ? 'bigint' : 'number', codec: intCodec(t.size, t.signed, where) };
    case 'float':
      return { ts: 'number', codec: t.size === 4 ? 'codecs.f32' : 'codecs.f64' };
    case 'ptr':
      return { ts: 'bigint', codec: 'codecs.u64' };
    case 'array': {
      const element = btf.resolve(t.element);
      if (
        element.kind === 'int' &&
        element.size === 1 &&
        (element.name === 'char' || element.encoding & BtfIntEncoding.Char)
      )
        return { ts: 'string', codec: `cstring(${t.count})` };
      const inner = typedOf(btf, t.element, names);
      return inner && { ts: `(${inner.ts})[]`, codec: `array(${inner.codec}, ${t.count})` };
    }
    default:
      return undefined;
  }
}

/**
 * What `Variable.get()` returns for a global of type `type` (core's variable codec): integers
 * and enums up to 4 bytes a number, 8 bytes a bigint, a 1-byte bool a boolean, else bytes.
 */
export function variableType(btf: Btf | undefined, type: Type, size: number): string {
  const t = btf !== undefined && type.kind !== 'void' ? btf.resolve(type.id) : type;
  const integer = t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64';
  if (t.kind === 'int' && t.encoding & BtfIntEncoding.Bool && size === 1) return 'boolean';
  if (integer && (size === 1 || size === 2 || size === 4)) return 'number';
  if (integer && size === 8) return 'bigint';
  return 'Uint8Array';
}
