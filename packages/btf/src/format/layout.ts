/**
 * Sizes and alignments as the printers need them: like libbpf's `btf__resolve_size` and
 * `btf__align_of`, a type without one answers 0 instead of throwing, and a struct whose members
 * sit off their natural alignment (or whose size is not a multiple of it) is taken as packed,
 * alignment 1. Answers are cached per id: vmlinux asks about the same types many times.
 */
import type { Btf } from '../btf.ts';
import { BtfError } from '../error.ts';
import type { Struct, TypeId, Union } from '../types.ts';

/** Pointer size of the BPF target and of every 64-bit kernel. */
export const POINTER_SIZE = 8;
/** Deeper chains of qualifiers, typedefs or arrays than this are a loop (libbpf allows 32). */
const MAX_DEPTH = 256;
/** A cache slot not filled yet (-1 is an answer: no size). */
const UNKNOWN = -2;

export class Layout {
  /** Answers by id, UNKNOWN for not known yet. */
  private readonly aligns: Float64Array;
  private readonly sizes: Float64Array;

  constructor(private readonly btf: Btf) {
    this.aligns = new Float64Array(btf.nextId).fill(UNKNOWN);
    this.sizes = new Float64Array(btf.nextId).fill(UNKNOWN);
  }

  /** Bytes of a value of `id`; 0 for types without a size (void, fwd, func). */
  sizeOf(id: TypeId): number {
    return Math.max(this.byteSize(id), 0);
  }

  /**
   * Bytes of a value of `id`, -1 for types without a size: the one size walk of the package,
   * behind `Btf.sizeof` too.
   */
  byteSize(id: TypeId): number {
    const known = this.sizes[id]!;
    if (known !== UNKNOWN) return known;
    let count = 1;
    let at = id;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const t = this.btf.typeById(at);
      switch (t.kind) {
        case 'int':
        case 'float':
        case 'enum':
        case 'enum64':
        case 'struct':
        case 'union':
        case 'datasec':
          return this.remember(this.sizes, id, count * t.size);
        case 'ptr':
          return this.remember(this.sizes, id, count * POINTER_SIZE);
        case 'typedef':
        case 'const':
        case 'volatile':
        case 'restrict':
        case 'type_tag':
        case 'decl_tag':
          at = t.target;
          break;
        case 'var':
          at = t.type;
          break;
        case 'array':
          count *= t.count;
          at = t.element;
          break;
        default:
          return this.remember(this.sizes, id, -1);
      }
    }
    throw new BtfError(`type ${id} refers to itself through arrays, typedefs or qualifiers`, -1);
  }

  /** Alignment in bytes of `id` as a compiler would lay it out; 1 for packed structs, 0 for types without one. */
  alignOf(id: TypeId, depth = 0): number {
    const known = this.aligns[id]!;
    if (known !== UNKNOWN) return known;
    if (depth > MAX_DEPTH) throw new BtfError(`type ${id} contains itself`, -1);
    const t = this.btf.typeById(id);
    switch (t.kind) {
      case 'int':
      case 'float':
      case 'enum':
      case 'enum64':
        return this.remember(this.aligns, id, Math.min(t.size, POINTER_SIZE));
      case 'ptr':
        return this.remember(this.aligns, id, POINTER_SIZE);
      case 'typedef':
      case 'const':
      case 'volatile':
      case 'restrict':
      case 'type_tag':
        return this.remember(this.aligns, id, this.alignOf(t.target, depth + 1));
      case 'array':
        return this.remember(this.aligns, id, this.alignOf(t.element, depth + 1));
      case 'var':
        return this.remember(this.aligns, id, this.alignOf(t.type, depth + 1));
      case 'struct':
      case 'union':
        return this.remember(this.aligns, id, this.compositeAlign(t, depth));
      default:
        return this.remember(this.aligns, id, 0);
    }
  }

  /** Whether a struct's layout needs `__attribute__((packed))` to come out as BTF says. */
  isPacked(t: Struct | Union): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const align = this.alignOf(m.type);
      if (align && m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(maxAlign, align);
    }
    return t.size % maxAlign !== 0;
  }

  private compositeAlign(t: Struct | Union, depth: number): number {
    let maxAlign = 1;
    for (const m of t.members) {
      const align = this.alignOf(m.type, depth + 1);
      if (align <= 0) return 0;
      maxAlign = Math.max(maxAlign, align);
      if (m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return 1;
    }
    return t.size % maxAlign === 0 ? maxAlign : 1;
  }

  private remember(cache: Float64Array, id: TypeId, value: number): number {
    cache[id] = value;
    return value;
  }
}
