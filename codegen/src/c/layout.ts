/**
 * Struct and union layout by the LP64 System V C ABI (x86-64, arm64, riscv64 agree on it for the
 * types uapi headers use): natural alignment, `aligned`/`packed` attributes, bitfields that do not
 * straddle their storage unit, unnamed bitfields that pad without aligning. Produces IR members.
 */
import type { IrAggregate, IrMember, IrOrigin, IrScalar } from '../ir.ts';
import type { CAggregate, CType } from './parser.ts';
import { CSyntaxError } from './tokenizer.ts';

/** Size in bytes of a C type. */
export function sizeOf(t: CType): number {
  switch (t.kind) {
    case 'void':
      return 1;
    case 'int':
      return t.size;
    case 'ptr':
      return 8;
    case 'enum':
      return 4;
    case 'typedef':
      return sizeOf(t.to);
    case 'array':
      return t.count * sizeOf(t.elem);
    case 'struct':
    case 'union':
      return layoutOf(t).size;
  }
}

/** Alignment in bytes of a C type. */
export function alignOf(t: CType): number {
  switch (t.kind) {
    case 'void':
      return 1;
    case 'int':
      return t.align;
    case 'ptr':
      return 8;
    case 'enum':
      return 4;
    case 'typedef':
      return Math.max(t.align ?? 1, alignOf(t.to));
    case 'array':
      return alignOf(t.elem);
    case 'struct':
    case 'union':
      return layoutOf(t).align;
  }
}

/** The C spelling of a type as the IR shows it. */
export function spell(t: CType): string {
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'int':
      return t.name;
    case 'typedef':
      return t.name;
    case 'ptr':
      return `${spell(t.to)} *`;
    case 'enum':
      return t.tag ? `enum ${t.tag}` : 'enum';
    case 'array':
      return `${spell(t.elem)}[${t.count}]`;
    case 'struct':
    case 'union':
      return t.tag ? `${t.kind} ${t.tag}` : t.kind;
  }
}

function resolve(t: CType): CType {
  while (t.kind === 'typedef') t = t.to;
  return t;
}

/** The scalar kind of an integer-like type, or undefined. */
export function scalarOf(t: CType): IrScalar | undefined {
  const r = resolve(t);
  if (r.kind === 'enum') return 'u32';
  if (r.kind === 'ptr') return 'u64';
  if (r.kind !== 'int') return undefined;
  const bits = r.size * 8;
  if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) return undefined;
  return `${r.signed ? 's' : 'u'}${bits}` as IrScalar;
}

const cache = new WeakMap<CAggregate, { size: number; align: number; members: IrMember[] }>();

function layoutOf(agg: CAggregate): { size: number; align: number; members: IrMember[] } {
  const hit = cache.get(agg);
  if (hit) return hit;
  if (!agg.members) {
    throw new CSyntaxError(
      agg.loc,
      `${agg.kind} ${agg.tag ?? '(anonymous)'} is incomplete (declared but never defined)`,
    );
  }
  const members: IrMember[] = [];
  let bit = 0; // struct cursor in bits
  let size = 0; // bytes (union: max)
  let align = 1;
  for (const m of agg.members) {
    const msize = sizeOf(m.type);
    if (m.bitWidth !== undefined) {
      const unit = msize * 8;
      const w = m.bitWidth;
      if (w > unit) throw new CSyntaxError(m.loc, `bitfield ${m.name ?? ''} wider than its type`);
      let start = agg.kind === 'union' ? 0 : bit;
      if (w === 0) {
        if (agg.kind === 'struct') bit = Math.ceil(bit / unit) * unit;
        continue;
      }
      if (!agg.packed && Math.floor(start / unit) !== Math.floor((start + w - 1) / unit)) {
        start = Math.ceil(start / unit) * unit;
      }
      if (m.name !== undefined) {
        align = Math.max(align, alignOf(m.type));
        const unitOffset = Math.floor(start / unit) * msize;
        members.push({
          name: m.name,
          ctype: spell(m.type),
          offset: unitOffset,
          size: msize,
          kind: 'scalar',
          scalar: scalarOf(m.type)!,
          bitOffset: start - unitOffset * 8,
          bitSize: w,
        });
      }
      if (agg.kind === 'struct') bit = start + w;
      else size = Math.max(size, Math.ceil(w / 8));
      continue;
    }
    let a = agg.packed ? 1 : alignOf(m.type);
    if (m.align !== undefined) a = Math.max(a, m.align);
    align = Math.max(align, a);
    const offset = agg.kind === 'struct' ? Math.ceil(bit / 8 / a) * a : 0;
    members.push(irMember(m.name ?? '', m.type, offset));
    if (agg.kind === 'struct') bit = (offset + msize) * 8;
    else size = Math.max(size, msize);
  }
  if (agg.align !== undefined) align = Math.max(align, agg.align);
  if (agg.kind === 'struct') size = Math.ceil(bit / 8);
  size = Math.ceil(size / align) * align;
  const res = { size, align, members };
  cache.set(agg, res);
  return res;
}

function irMember(name: string, type: CType, offset: number): IrMember {
  const r = resolve(type);
  const base = { name, ctype: spell(type), offset, size: sizeOf(type) };
  switch (r.kind) {
    case 'struct':
    case 'union': {
      const inner = layoutOf(r);
      return { ...base, kind: r.kind, members: inner.members.map((m) => shift(m, offset)) };
    }
    case 'array': {
      const elem = scalarOf(r.elem);
      return elem
        ? { ...base, kind: 'array', scalar: elem, count: r.count }
        : { ...base, kind: 'array', count: r.count };
    }
    case 'ptr':
      return { ...base, kind: 'ptr', scalar: 'u64' };
    default: {
      const s = scalarOf(type);
      if (!s) throw new Error(`no scalar kind for ${spell(type)}`);
      return { ...base, kind: 'scalar', scalar: s };
    }
  }
}

function shift(m: IrMember, by: number): IrMember {
  if (by === 0) return m;
  const moved: IrMember = { ...m, offset: m.offset + by };
  return m.members ? { ...moved, members: m.members.map((x) => shift(x, by)) } : moved;
}

/** Lays out a tagged aggregate as an IR aggregate. */
export function layoutAggregate(agg: CAggregate, from: IrOrigin): IrAggregate {
  const l = layoutOf(agg);
  return {
    name: `${agg.kind} ${agg.tag ?? ''}`.trim(),
    size: l.size,
    align: l.align,
    members: l.members,
    from,
  };
}
