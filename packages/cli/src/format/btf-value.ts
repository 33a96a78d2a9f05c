/**
 * Map keys and values decoded by their BTF, in the shapes `bpftool map dump` gives them (its
 * "formatted" JSON), so that scripts written for one read the other: structs and unions as
 * objects by member name, enums by name, char arrays holding a NUL-terminated printable string
 * as strings, other arrays as arrays, bitfields (and 128-bit ints) as hex strings, other ints as
 * numbers (bigints for 64 bits), pointers as numbers, and global data as
 * `{ section: [{ variable: value }, ...] }`.
 */
import type { ArrayType, Btf, Int, Type, TypeId } from '@ebpf/btf';
import { BtfIntEncoding } from '@ebpf/uapi';

/** A decoded key or value; `null` for what has no value (void, forward declarations, functions). */
export type BtfValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | readonly BtfValue[]
  | { readonly [name: string]: BtfValue };

/** The value of type `id` in `bytes`, or undefined when the type does not have that size. */
export function decodeBtfValue(btf: Btf, id: TypeId, bytes: Uint8Array): BtfValue | undefined {
  try {
    if (btf.sizeof(id) !== bytes.length) return undefined;
    return new Decoder(btf, bytes).value(id, 0, 0);
  } catch {
    // BTF that contradicts itself (a member past its struct): the caller shows the bytes.
    return undefined;
  }
}

/** Bits of an int that are printed as a plain number; other widths are bitfields. */
const wholeWidths = new Set([8, 16, 32, 64]);

class Decoder {
  readonly #btf: Btf;
  readonly #bytes: Uint8Array;
  readonly #little: boolean;

  constructor(btf: Btf, bytes: Uint8Array) {
    this.#btf = btf;
    this.#bytes = bytes;
    this.#little = btf.littleEndian;
  }

  /** The value of type `id` at byte `offset`, `bit` bits further (members of old-style bitfields). */
  value(id: TypeId, offset: number, bit: number): BtfValue {
    const t = this.#btf.resolve(id); // through typedefs and qualifiers
    switch (t.kind) {
      case 'int':
        return this.int(t, offset, bit);
      case 'enum':
      case 'enum64': {
        const raw = this.integer(offset, t.size, t.signed);
        const named = t.values.find((v) => BigInt(v.value) === raw);
        return named ? named.name : narrow(raw, t.size);
      }
      case 'ptr':
        return this.integer(offset, 8, false);
      case 'float':
        return this.float(t.size, offset);
      case 'array':
        return this.array(t, offset);
      case 'struct':
      case 'union': {
        const out: Record<string, BtfValue> = {};
        for (const m of t.members) {
          const at = offset + (m.bitOffset >> 3);
          const value =
            m.bitfieldSize > 0
              ? this.bitfield(at, m.bitOffset & 7, m.bitfieldSize)
              : this.value(m.type, at, m.bitOffset & 7);
          // defineProperty: a member called `__proto__` is a field, not a prototype.
          Object.defineProperty(out, m.name, { value, enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
      case 'var':
        return { [t.name]: this.value(t.type, offset, 0) };
      case 'datasec':
        return { [t.name]: t.vars.map((v) => this.value(v.type, offset + v.offset, 0)) };
      default:
        return null;
    }
  }

  private int(t: Int, offset: number, bit: number): BtfValue {
    if (t.bitOffset !== 0 || bit !== 0 || !wholeWidths.has(t.bits))
      return this.bitfield(offset, bit + t.bitOffset, t.bits);
    const signed = (t.encoding & BtfIntEncoding.Signed) !== 0;
    if ((t.encoding & BtfIntEncoding.Bool) !== 0) return this.integer(offset, t.size, false) !== 0n;
    if ((t.encoding & BtfIntEncoding.Char) !== 0) return String.fromCharCode(this.byte(offset));
    return narrow(this.integer(offset, t.bits / 8, signed), t.bits / 8);
  }

  /** A bitfield as bpftool prints it: hex of its bits. */
  private bitfield(offset: number, bit: number, bits: number): string {
    const size = Math.ceil((bit + bits) / 8);
    const raw = this.integer(offset, size, false);
    const shift = this.#little ? bit : size * 8 - bit - bits;
    return `0x${((raw >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n)).toString(16)}`;
  }

  /** A `char[]` holding a printable string before a NUL is that string; other arrays are arrays. */
  private array(t: ArrayType, offset: number): BtfValue {
    if (this.isCharArray(t)) {
      const end = this.#bytes.indexOf(0, offset);
      if (end >= 0 && end < offset + t.count) {
        const text = this.#bytes.subarray(offset, end);
        if (text.every((b) => b >= 0x20 && b < 0x7f)) return String.fromCharCode(...text);
      }
    }
    const size = this.#btf.sizeof(t.element);
    return Array.from({ length: t.count }, (_, i) => this.value(t.element, offset + i * size, 0));
  }

  /** Whether the elements are `char` (through qualifiers, not typedefs: bpftool's rule). */
  private isCharArray(t: ArrayType): boolean {
    if (t.count === 0) return false;
    let element: Type = this.#btf.typeById(t.element);
    while (['const', 'volatile', 'restrict', 'type_tag'].includes(element.kind))
      element = this.#btf.typeById((element as { target: TypeId }).target);
    return (
      element.kind === 'int' &&
      element.size === 1 &&
      ((element.encoding & BtfIntEncoding.Char) !== 0 || element.name === 'char')
    );
  }

  private float(size: number, offset: number): BtfValue {
    const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset + offset, size);
    if (size === 4) return view.getFloat32(0, this.#little);
    if (size === 8) return view.getFloat64(0, this.#little);
    return `0x${this.integer(offset, size, false).toString(16)}`;
  }

  private byte(offset: number): number {
    const b = this.#bytes[offset];
    if (b === undefined) throw new RangeError(`offset ${offset} is past the value`);
    return b;
  }

  /** `size` bytes at `offset` as an integer in the BTF's byte order. */
  private integer(offset: number, size: number, signed: boolean): bigint {
    let raw = 0n;
    for (let i = 0; i < size; i++) {
      const b = this.byte(this.#little ? offset + size - 1 - i : offset + i);
      raw = (raw << 8n) | BigInt(b);
    }
    return signed ? BigInt.asIntN(size * 8, raw) : raw;
  }
}

/** Numbers for up to 32 bits, bigints above (JSON prints the exact ones as numbers). */
const narrow = (raw: bigint, size: number): number | bigint => (size <= 4 ? Number(raw) : raw);

/**
 * A decoded value as text: JSON-like, names unquoted, on one line when it fits in `width`
 * columns after `indent`, else one member or element a line.
 */
export function formatBtfValue(value: BtfValue, width: number, indent = 0): string {
  const line = oneLine(value);
  if (value === null || typeof value !== 'object' || indent + line.length <= width) return line;
  const pad = ' '.repeat(indent + 2);
  const items = Array.isArray(value)
    ? value.map((v: BtfValue) => `${pad}${formatBtfValue(v, width, indent + 2)}`)
    : Object.entries(value).map(([k, v]) => `${pad}${label(k)}: ${formatBtfValue(v, width, indent + 2)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${items.join(',\n')}\n${' '.repeat(indent)}${close}`;
}

function oneLine(value: BtfValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${label(k)}: ${oneLine(v)}`)
    .join(', ')}}`;
}

/** A member name as is when it is an identifier, quoted otherwise (`""`, `.bss`). */
const label = (name: string): string => (/^[A-Za-z_]\w*$/.test(name) ? name : JSON.stringify(name));
