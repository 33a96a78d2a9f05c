/**
 * `Variable`: a global of a loaded object, read and written in the map of its data section.
 * Writable sections (`.data`, `.bss`) are accessed through the map's mapping (programs see a
 * write at once); frozen ones (`.rodata`, `.kconfig`) are read with a lookup and refuse writes.
 */
import type { Btf, Type } from '@ebpf/btf';
import type { VariableSpec } from '@ebpf/object';
import { BtfIntEncoding } from '@ebpf/uapi';
import { InvalidArgumentError } from '../errors.ts';
import type { BpfMap } from '../map/map.ts';

/** How a variable's bytes become a JavaScript value and back. */
interface ScalarCodec {
  decode(view: DataView): unknown;
  encode(value: unknown, view: DataView): void;
}

const bytesCodec = (size: number): ScalarCodec => ({
  decode: (view) => new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + size)),
  encode(value, view) {
    if (!(value instanceof Uint8Array) || value.length !== size)
      throw new InvalidArgumentError(`the value must be a Uint8Array of ${size} bytes`);
    new Uint8Array(view.buffer, view.byteOffset, size).set(value);
  },
});

function integer(value: unknown, bits: number, signed: boolean): bigint {
  if (typeof value !== 'number' && typeof value !== 'bigint')
    throw new InvalidArgumentError(`the value must be a number or bigint, got ${typeof value}`);
  if (typeof value === 'number' && !Number.isInteger(value))
    throw new InvalidArgumentError(`the value must be an integer, got ${value}`);
  const big = BigInt(value);
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (big < min || big > max)
    throw new InvalidArgumentError(
      `the value ${big} does not fit ${signed ? 'a signed' : 'an unsigned'} ${bits}-bit integer`,
    );
  return big;
}

/** Integers up to 4 bytes as numbers, 8-byte ones as bigints (little endian, the running machine's order). */
function intCodec(size: number, signed: boolean): ScalarCodec | undefined {
  const bits = size * 8;
  switch (size) {
    case 1:
    case 2:
    case 4:
      return {
        decode: (view) => {
          const raw =
            size === 1 ? view.getUint8(0) : size === 2 ? view.getUint16(0, true) : view.getUint32(0, true);
          return signed && raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
        },
        encode(value, view) {
          const n = Number(BigInt.asUintN(bits, integer(value, bits, signed)));
          if (size === 1) view.setUint8(0, n);
          else if (size === 2) view.setUint16(0, n, true);
          else view.setUint32(0, n, true);
        },
      };
    case 8:
      return {
        decode: (view) => (signed ? view.getBigInt64(0, true) : view.getBigUint64(0, true)),
        encode: (value, view) => view.setBigUint64(0, BigInt.asUintN(64, integer(value, 64, signed)), true),
      };
    default:
      return undefined;
  }
}

const boolCodec: ScalarCodec = {
  decode: (view) => view.getUint8(0) !== 0,
  encode(value, view) {
    if (typeof value !== 'boolean')
      throw new InvalidArgumentError(`the value must be a boolean, got ${typeof value}`);
    view.setUint8(0, value ? 1 : 0);
  },
};

/** The codec of a variable of BTF type `type`: ints, bools and enums decoded, anything else as bytes. */
export function variableCodec(type: Type, size: number, btf: Btf | undefined): ScalarCodec {
  const resolved = btf !== undefined && type.kind !== 'void' ? btf.resolve(type.id) : type;
  if (resolved.kind === 'int') {
    if (resolved.encoding & BtfIntEncoding.Bool && size === 1) return boolCodec;
    return intCodec(size, (resolved.encoding & BtfIntEncoding.Signed) !== 0) ?? bytesCodec(size);
  }
  if (resolved.kind === 'enum' || resolved.kind === 'enum64')
    return intCodec(size, resolved.signed) ?? bytesCodec(size);
  return bytesCodec(size);
}

const zeroKey = new Uint8Array(4);

/**
 * A global variable of a loaded collection. `T` is what `get` returns for its BTF type (a
 * number, a bigint for 8 bytes, a boolean, else bytes); `ebpf gen types` names it per variable.
 */
export class Variable<T = unknown> {
  readonly name: string;
  /** The data section holding it: `.data`, `.bss`, `.rodata`... */
  readonly section: string;
  readonly offset: number;
  readonly size: number;
  readonly type: Type;
  readonly #map: BpfMap;
  readonly #codec: ScalarCodec;
  readonly #readOnly: boolean;

  constructor(spec: VariableSpec, map: BpfMap, readOnly: boolean, btf: Btf | undefined) {
    this.name = spec.name;
    this.section = spec.section;
    this.offset = spec.offset;
    this.size = spec.size;
    this.type = spec.type;
    this.#map = map;
    this.#readOnly = readOnly;
    this.#codec = variableCodec(spec.type, spec.size, btf);
  }

  /** Whether `set` is refused: the section is frozen (`.rodata`, `.kconfig`). */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /** The current value: a number (bigint for 8 bytes) for ints and enums, a boolean for bools, else bytes. */
  get(): T {
    if (this.#readOnly) {
      const value = this.#map.get(zeroKey) as Uint8Array;
      return this.#codec.decode(new DataView(value.buffer, value.byteOffset + this.offset, this.size)) as T;
    }
    const memory = this.#map.memory().u8;
    return this.#codec.decode(new DataView(memory.buffer, memory.byteOffset + this.offset, this.size)) as T;
  }

  /** Writes the value where programs read it (bytes of exactly `size` for types without a codec). */
  set(value: T): void {
    if (this.#readOnly) {
      throw new InvalidArgumentError(
        `variable ${this.name} is in ${this.section}, frozen at load; set it on spec.variables.${this.name} before Collection.load`,
      );
    }
    const memory = this.#map.memory().u8;
    try {
      this.#codec.encode(value, new DataView(memory.buffer, memory.byteOffset + this.offset, this.size));
    } catch (error) {
      if (error instanceof InvalidArgumentError)
        throw new InvalidArgumentError(`variable ${this.name}: ${error.message}`, { cause: error });
      throw error;
    }
  }
}
