/**
 * C bitfields (`__u32 flags : 3`) and unions: the two shapes of C data a struct of whole fields
 * cannot describe. `ebpf gen types` builds its codecs from these and `struct()`.
 */
import { type Codec, type CodecLike, type CodecType, hostLittleEndian, resolveCodec } from './codec.ts';

/** How a bitfield's bits read: an unsigned or signed integer, or a C `bool`. */
export type BitfieldKind = 'unsigned' | 'signed' | 'bool';

/** Widths that do not fit a 32-bit number: such bitfields read as `bigint`. */
type WideBits = Exclude<Range<65>, Range<33>>;
type Range<N extends number, A extends number[] = []> = A['length'] extends N
  ? A[number]
  : Range<N, [...A, A['length']]>;

/** The value a bitfield of `kind` and width `W` reads: wider than 32 bits a `bigint`. */
export type BitfieldValue<K extends BitfieldKind, W extends number> = K extends 'bool'
  ? boolean
  : W extends WideBits
    ? bigint
    : number;

/** A codec that writes only some bits of its bytes: `struct()` zeroes those bytes before writing its fields. */
export interface BitfieldCodec<T> extends Codec<T> {
  /** The field's width in bits. */
  readonly bits: number;
}

/**
 * The codec of a bitfield `width` bits wide, starting `shift` bits into its first byte (as BTF
 * counts: from the least significant bit on little-endian hosts, the most significant on
 * big-endian ones). Place it in a struct at the byte of its first bit:
 * `struct({ a: [bitfield(0, 3), 0], b: [bitfield(3, 5), 0] })` is `struct { u8 a:3, b:5; }`.
 * Writes change only the field's bits; values that do not fit throw `RangeError`.
 */
export function bitfield<const K extends BitfieldKind = 'unsigned', const W extends number = number>(
  shift: number,
  width: W,
  kind: K = 'unsigned' as K,
): BitfieldCodec<BitfieldValue<K, W>> {
  if (!Number.isInteger(shift) || shift < 0 || shift > 7)
    throw new RangeError('bitfield(shift, width): shift must be an integer in [0, 7]');
  if (!Number.isInteger(width) || width < 1 || width > 64)
    throw new RangeError('bitfield(shift, width): width must be an integer in [1, 64]');
  if (kind === 'bool' && width !== 1) throw new RangeError('bitfield: a bool bitfield is 1 bit wide');
  const size = Math.ceil((shift + width) / 8);
  // Bits below the field in the integer its bytes make, read in host order.
  const low = BigInt(hostLittleEndian ? shift : size * 8 - shift - width);
  const mask = (1n << BigInt(width)) - 1n;
  const signed = kind === 'signed';
  const min = signed ? -(1n << BigInt(width - 1)) : 0n;
  const max = signed ? (1n << BigInt(width - 1)) - 1n : mask;
  const big = width > 32 && kind !== 'bool';
  const name = `${kind} bitfield :${width} at bit ${shift}`;
  // Fields within 32 bits of one word go through numbers; wider ones through bigint.
  const narrow = shift + width <= 32;
  const pow = 2 ** Number(low);
  const range = 2 ** width;

  const readRaw = (view: DataView, offset: number): number => {
    let raw = 0;
    for (let i = 0; i < size; i++) {
      const at = hostLittleEndian ? size - 1 - i : i;
      raw = raw * 256 + view.getUint8(offset + at);
    }
    return raw;
  };
  const writeRaw = (view: DataView, offset: number, raw: number): void => {
    for (let i = 0; i < size; i++) {
      const at = hostLittleEndian ? i : size - 1 - i;
      view.setUint8(offset + at, raw % 256);
      raw = Math.floor(raw / 256);
    }
  };
  const readBig = (view: DataView, offset: number): bigint => {
    let raw = 0n;
    for (let i = 0; i < size; i++) {
      const at = hostLittleEndian ? size - 1 - i : i;
      raw = (raw << 8n) | BigInt(view.getUint8(offset + at));
    }
    return raw;
  };
  const writeBig = (view: DataView, offset: number, raw: bigint): void => {
    for (let i = 0; i < size; i++) {
      const at = hostLittleEndian ? i : size - 1 - i;
      view.setUint8(offset + at, Number(raw & 0xffn));
      raw >>= 8n;
    }
  };

  const toField = (value: unknown): bigint => {
    if (kind === 'bool') {
      if (typeof value !== 'boolean') throw new TypeError(`${name} value must be a boolean`);
      return value ? 1n : 0n;
    }
    if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isInteger(value)))
      throw new TypeError(`${name} value must be an integer ${big ? 'bigint' : 'number'}`);
    const v = BigInt(value);
    if (v < min || v > max) throw new RangeError(`${name} value must be in [${min}, ${max}], got ${v}`);
    return BigInt.asUintN(width, v);
  };
  const fromField = (field: bigint): unknown => {
    if (kind === 'bool') return field !== 0n;
    const v = signed ? BigInt.asIntN(width, field) : field;
    return big ? v : Number(v);
  };

  return Object.freeze({
    name,
    size,
    align: 1,
    bits: width,
    write(view: DataView, offset: number, value: BitfieldValue<K, W>): void {
      const field = toField(value);
      if (narrow) {
        const raw = readRaw(view, offset);
        const old = Math.floor(raw / pow) % range;
        writeRaw(view, offset, raw + (Number(field) - old) * pow);
      } else {
        const raw = readBig(view, offset);
        writeBig(view, offset, (raw & ~(mask << low)) | (field << low));
      }
    },
    read(view: DataView, offset: number): BitfieldValue<K, W> {
      if (narrow) {
        const field = Math.floor(readRaw(view, offset) / pow) % range;
        if (kind === 'bool') return (field !== 0) as BitfieldValue<K, W>;
        return (signed && field >= range / 2 ? field - range : field) as BitfieldValue<K, W>;
      }
      return fromField((readBig(view, offset) >> low) & mask) as BitfieldValue<K, W>;
    },
  });
}

/** The members of a union, each at offset 0. */
export type UnionMembers = { readonly [name: string]: CodecLike };

/** The object a union codec reads (every member's view of the bytes) and writes (its first member present). */
export type UnionValue<M extends UnionMembers> = { -readonly [K in keyof M]: CodecType<M[K]> };

/**
 * A codec for a C union: reads give every member's reading of the same bytes; writes take the
 * first member (in declaration order) the object has and zero the bytes it does not cover.
 * `size` is the union's (its widest member's, rounded to its alignment, if not given).
 */
export function union<const M extends UnionMembers>(
  members: M,
  options: { readonly size?: number; readonly name?: string } = {},
): Codec<UnionValue<M>> {
  const layout = Object.entries(members).map(([name, like]) => ({ name, codec: resolveCodec(like) }));
  const align = Math.max(1, ...layout.map((m) => m.codec.align));
  const widest = Math.max(0, ...layout.map((m) => m.codec.size));
  const size = options.size ?? Math.ceil(widest / align) * align;
  if (!Number.isInteger(size) || size < widest)
    throw new RangeError(`union size ${String(size)} is smaller than its widest member (${widest} bytes)`);
  const name = options.name ?? `union { ${layout.map((m) => `${m.name}: ${m.codec.name}`).join(', ')} }`;
  return Object.freeze({
    name,
    size,
    align,
    write(view: DataView, offset: number, value: UnionValue<M>): void {
      if (value === null || typeof value !== 'object')
        throw new TypeError(`${name}: value must be an object`);
      const member = layout.find((m) => (value as Record<string, unknown>)[m.name] !== undefined);
      if (member === undefined)
        throw new TypeError(`${name}: value must have one of ${layout.map((m) => m.name).join(', ')}`);
      for (let i = 0; i < size; i++) view.setUint8(offset + i, 0);
      try {
        member.codec.write(view, offset, (value as Record<string, unknown>)[member.name]);
      } catch (error) {
        throw new (error instanceof RangeError ? RangeError : TypeError)(
          `member '${member.name}': ${(error as Error).message}`,
        );
      }
    },
    read(view: DataView, offset: number): UnionValue<M> {
      const out: Record<string, unknown> = {};
      for (const m of layout) out[m.name] = m.codec.read(view, offset);
      return out as UnionValue<M>;
    },
  });
}
