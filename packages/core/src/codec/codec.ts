/**
 * Codecs turn JavaScript values into the fixed-size byte layout a map stores, and back.
 * A codec reads and writes through a `DataView` at an offset, so the caller (a map) can reuse one
 * buffer for every call: encoding allocates nothing for numbers.
 */

/** A fixed-size binary encoding of values of type `T`. */
export interface Codec<T> {
  /** Size of one encoded value in bytes. */
  readonly size: number;
  /**
   * Alignment in bytes a C compiler gives the type (u32: 4, a byte array: 1, a struct: its widest
   * field's): where a struct puts it as a field, and the element layout of arrays.
   */
  readonly align: number;
  /** A short description for error messages and `toString()`: 'u32', 'struct { a: u32 }', ... */
  readonly name: string;
  /** Writes `value` at `offset` of `view`. Throws `RangeError`/`TypeError` for values that do not fit. */
  write(view: DataView, offset: number, value: T): void;
  /** Reads a value at `offset` of `view`. Values that carry bytes return copies, never views. */
  read(view: DataView, offset: number): T;
}

/** The built-in codec names accepted wherever a codec is: `key: 'u32'`, `value: 'u64'`. */
export type CodecName = keyof CodecNameTypes;

/** The JavaScript type each built-in codec name stands for. */
export interface CodecNameTypes {
  u8: number;
  u16: number;
  u32: number;
  /** 64-bit unsigned as `bigint`. */
  u64: bigint;
  /** 64-bit unsigned as `number`: exact up to 2^53 - 1; writing more throws. Faster than `u64`. */
  u64n: number;
  i8: number;
  i16: number;
  i32: number;
  /** 64-bit signed as `bigint`. */
  i64: bigint;
  /** 64-bit signed as `number`: exact within ±(2^53 - 1); writing more throws. */
  i64n: number;
  f32: number;
  f64: number;
  /** One byte as a JavaScript boolean (0 false, anything else true). */
  bool: boolean;
}

/** A codec or the name of a built-in one. */
export type CodecLike = Codec<unknown> | CodecName;

/** The value type a codec (or codec name) encodes. */
export type CodecType<C> = C extends Codec<infer T> ? T : C extends CodecName ? CodecNameTypes[C] : never;

/** Hosts eBPF runs on are almost all little-endian; the kernel stores values in host order. */
export const hostLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const le = hostLittleEndian;

function checkInt(value: number, min: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} value must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

type Reader = (view: DataView, offset: number) => number;
type Writer = (view: DataView, offset: number, value: number) => void;

/** Accessors of the 8-, 16- and 32-bit integers, [write, read], host byte order. */
function intAccessors(size: 1 | 2 | 4, signed: boolean): [Writer, Reader] {
  switch (size * (signed ? -1 : 1)) {
    case 1:
      return [(v, o, x) => v.setUint8(o, x), (v, o) => v.getUint8(o)];
    case -1:
      return [(v, o, x) => v.setInt8(o, x), (v, o) => v.getInt8(o)];
    case 2:
      return [(v, o, x) => v.setUint16(o, x, le), (v, o) => v.getUint16(o, le)];
    case -2:
      return [(v, o, x) => v.setInt16(o, x, le), (v, o) => v.getInt16(o, le)];
    case 4:
      return [(v, o, x) => v.setUint32(o, x, le), (v, o) => v.getUint32(o, le)];
    default:
      return [(v, o, x) => v.setInt32(o, x, le), (v, o) => v.getInt32(o, le)];
  }
}

function intCodec(
  name: string,
  size: number,
  min: number,
  max: number,
  write: Writer,
  read: Reader,
): Codec<number> {
  return Object.freeze({
    name,
    size,
    align: size,
    write(view: DataView, offset: number, value: number): void {
      if (typeof value !== 'number')
        throw new TypeError(`${name} value must be a number, got ${typeof value}`);
      checkInt(value, min, max, name);
      write(view, offset, value);
    },
    read,
  });
}

/** An 8-, 16- or 32-bit integer codec. */
function smallInt(name: string, size: 1 | 2 | 4, signed: boolean): Codec<number> {
  const bits = size * 8;
  const [min, max] = signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
  return intCodec(name, size, min, max, ...intAccessors(size, signed));
}

const TWO32 = 2 ** 32;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function bigCodec(name: string, signed: boolean): Codec<bigint> {
  const min = signed ? I64_MIN : 0n;
  const max = signed ? I64_MAX : U64_MAX;
  return Object.freeze({
    name,
    size: 8,
    align: 8,
    write(view: DataView, offset: number, value: bigint): void {
      if (typeof value !== 'bigint') {
        if (typeof value === 'number' && Number.isSafeInteger(value)) value = BigInt(value);
        else throw new TypeError(`${name} value must be a bigint, got ${typeof value}`);
      }
      if (value < min || value > max) throw new RangeError(`${name} value out of range: ${value}`);
      if (signed) view.setBigInt64(offset, value, le);
      else view.setBigUint64(offset, value, le);
    },
    read: signed
      ? (view: DataView, offset: number): bigint => view.getBigInt64(offset, le)
      : (view: DataView, offset: number): bigint => view.getBigUint64(offset, le),
  });
}

/* 64-bit values as numbers, through two 32-bit halves: no BigInt on the way (BigUint64 costs ~50x). */
const lo = le ? 0 : 4;
const hi = le ? 4 : 0;

function writeU64n(view: DataView, offset: number, value: number): void {
  view.setUint32(offset + lo, value >>> 0, le);
  view.setUint32(offset + hi, Math.floor(value / TWO32), le);
}
function readU64n(view: DataView, offset: number): number {
  return view.getUint32(offset + hi, le) * TWO32 + view.getUint32(offset + lo, le);
}
function writeI64n(view: DataView, offset: number, value: number): void {
  view.setUint32(offset + lo, value >>> 0, le);
  view.setInt32(offset + hi, Math.floor(value / TWO32), le);
}
function readI64n(view: DataView, offset: number): number {
  return view.getInt32(offset + hi, le) * TWO32 + view.getUint32(offset + lo, le);
}

function floatCodec(name: string, size: 4 | 8): Codec<number> {
  return Object.freeze({
    name,
    size,
    align: size,
    write(view: DataView, offset: number, value: number): void {
      if (typeof value !== 'number')
        throw new TypeError(`${name} value must be a number, got ${typeof value}`);
      if (size === 4) view.setFloat32(offset, value, le);
      else view.setFloat64(offset, value, le);
    },
    read:
      size === 4
        ? (view: DataView, offset: number): number => view.getFloat32(offset, le)
        : (view: DataView, offset: number): number => view.getFloat64(offset, le),
  });
}

/** The built-in codecs, by name. */
export const codecs: { readonly [N in CodecName]: Codec<CodecNameTypes[N]> } = Object.freeze({
  u8: smallInt('u8', 1, false),
  u16: smallInt('u16', 2, false),
  u32: smallInt('u32', 4, false),
  u64: bigCodec('u64', false),
  u64n: intCodec('u64n', 8, 0, Number.MAX_SAFE_INTEGER, writeU64n, readU64n),
  i8: smallInt('i8', 1, true),
  i16: smallInt('i16', 2, true),
  i32: smallInt('i32', 4, true),
  i64: bigCodec('i64', true),
  i64n: intCodec('i64n', 8, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, writeI64n, readI64n),
  f32: floatCodec('f32', 4),
  f64: floatCodec('f64', 8),
  bool: Object.freeze({
    name: 'bool',
    size: 1,
    align: 1,
    write(view: DataView, offset: number, value: boolean): void {
      view.setUint8(offset, value ? 1 : 0);
    },
    read: (view: DataView, offset: number): boolean => view.getUint8(offset) !== 0,
  }),
});

/** Resolves a codec name to its codec; codecs pass through. Throws `TypeError` for unknown names. */
export function resolveCodec<C extends CodecLike>(codec: C): Codec<CodecType<C>>;
export function resolveCodec(codec: Codec<unknown> | string): Codec<unknown>;
export function resolveCodec(codec: Codec<unknown> | string): Codec<unknown> {
  if (typeof codec === 'string') {
    const found = (codecs as Record<string, Codec<unknown>>)[codec];
    if (!found || !Object.hasOwn(codecs, codec)) {
      throw new TypeError(`unknown codec '${codec}'; built-in codecs: ${Object.keys(codecs).join(', ')}`);
    }
    return found;
  }
  if (
    codec === null ||
    typeof codec !== 'object' ||
    typeof codec.read !== 'function' ||
    typeof codec.write !== 'function' ||
    !Number.isInteger(codec.size) ||
    codec.size < 0
  ) {
    throw new TypeError('a codec must be a built-in codec name or an object with size, read() and write()');
  }
  return codec;
}

/**
 * Raw bytes of a fixed size: reads return a copy (a fresh `Uint8Array`), writes take a `Uint8Array`
 * (or any `ArrayBufferView`) of exactly `size` bytes.
 */
export function bytes(size: number): Codec<Uint8Array> {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`bytes(size): size must be an integer >= 0`);
  return Object.freeze({
    name: `bytes(${size})`,
    size,
    align: 1,
    write(view: DataView, offset: number, value: Uint8Array): void {
      if (!ArrayBuffer.isView(value)) {
        throw new TypeError(`bytes(${size}) value must be a Uint8Array of ${size} bytes`);
      }
      if (value.byteLength !== size) {
        throw new RangeError(`bytes(${size}) value must be ${size} bytes long, got ${value.byteLength}`);
      }
      const v = value as ArrayBufferView;
      const src = v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      new Uint8Array(view.buffer, view.byteOffset + offset, size).set(src);
    },
    read(view: DataView, offset: number): Uint8Array {
      // slice() of a view copies into a fresh array (on the V8 heap when small: cheap to allocate).
      return new Uint8Array(view.buffer, view.byteOffset + offset, size).slice();
    },
  });
}

/**
 * A zero-terminated string in a fixed-size char array (like `char comm[16]`). Writes throw when
 * the UTF-8 bytes do not fit with their terminator; reads stop at the first zero byte.
 */
export function cstring(size: number): Codec<string> {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError('cstring(size): size must be an integer >= 1');
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return Object.freeze({
    name: `cstring(${size})`,
    size,
    align: 1,
    write(view: DataView, offset: number, value: string): void {
      if (typeof value !== 'string') throw new TypeError(`cstring(${size}) value must be a string`);
      const target = new Uint8Array(view.buffer, view.byteOffset + offset, size);
      const { read, written } = encoder.encodeInto(value, target.subarray(0, size - 1));
      if (read !== value.length) {
        throw new RangeError(`cstring(${size}) value does not fit in ${size - 1} bytes plus its terminator`);
      }
      target.fill(0, written);
    },
    read(view: DataView, offset: number): string {
      const source = new Uint8Array(view.buffer, view.byteOffset + offset, size);
      const end = source.indexOf(0);
      return decoder.decode(end < 0 ? source : source.subarray(0, end));
    },
  });
}
