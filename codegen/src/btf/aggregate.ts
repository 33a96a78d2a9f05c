/**
 * Converts BTF structs and unions into IR aggregates, keeping the offsets BTF records (the
 * compiler's truth for the running kernel), spelled like the header spells them.
 */
import type { IrAggregate, IrMember, IrScalar } from '../ir.ts';
import { type Btf, BtfError, btfSizeOf, findNamed, resolveType } from './reader.ts';

function spell(btf: Btf, id: number): string {
  const t = btf.types[id]!;
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'int':
    case 'float':
    case 'typedef':
      return t.name;
    case 'ptr':
      return `${spell(btf, t.type)} *`;
    case 'array':
      return `${spell(btf, t.type)}[${t.nelems}]`;
    case 'enum':
      return t.name ? `enum ${t.name}` : 'enum';
    case 'struct':
    case 'union':
      return t.name ? `${t.kind} ${t.name}` : t.kind;
    case 'fwd':
      return `${t.union ? 'union' : 'struct'} ${t.name}`;
    case 'const':
    case 'volatile':
    case 'restrict':
    case 'type_tag':
      return spell(btf, t.type);
    default:
      return t.name;
  }
}

function scalarOf(btf: Btf, id: number): IrScalar | undefined {
  const t = btf.types[resolveType(btf, id)]!;
  if (t.kind === 'ptr') return 'u64';
  if (t.kind === 'enum') return `${t.signed ? 's' : 'u'}${t.size * 8}` as IrScalar;
  if (t.kind !== 'int') return undefined;
  if (![1, 2, 4, 8].includes(t.size)) return undefined;
  return `${t.signed ? 's' : 'u'}${t.size * 8}` as IrScalar;
}

/** Natural alignment of a BTF type (BTF does not record `aligned` attributes). */
export function btfAlignOf(btf: Btf, id: number): number {
  const t = btf.types[resolveType(btf, id)]!;
  switch (t.kind) {
    case 'int':
    case 'float':
    case 'enum':
      return Math.min(t.size, 16);
    case 'ptr':
      return 8;
    case 'array':
      return btfAlignOf(btf, t.type);
    case 'struct':
    case 'union':
      return t.members.reduce((a, m) => Math.max(a, btfAlignOf(btf, m.type)), 1);
    default:
      return 1;
  }
}

function members(btf: Btf, id: number, base: number): IrMember[] {
  const t = btf.types[resolveType(btf, id)]!;
  if (t.kind !== 'struct' && t.kind !== 'union') throw new BtfError(`type id ${id} is not a struct or union`);
  const out: IrMember[] = [];
  for (const m of t.members) {
    const size = btfSizeOf(btf, m.type);
    if (m.bitSize > 0 || m.bitOffset % 8 !== 0) {
      const unitOffset = Math.floor(m.bitOffset / (size * 8)) * size;
      out.push({
        name: m.name,
        ctype: spell(btf, m.type),
        offset: base + unitOffset,
        size,
        kind: 'scalar',
        scalar: scalarOf(btf, m.type)!,
        bitOffset: m.bitOffset - unitOffset * 8,
        bitSize: m.bitSize || size * 8,
      });
      continue;
    }
    const offset = base + m.bitOffset / 8;
    const r = btf.types[resolveType(btf, m.type)]!;
    const common = { name: m.name, ctype: spell(btf, m.type), offset, size };
    if (r.kind === 'struct' || r.kind === 'union') {
      out.push({ ...common, kind: r.kind, members: members(btf, m.type, offset) });
    } else if (r.kind === 'array') {
      const elem = scalarOf(btf, r.type);
      out.push(
        elem
          ? { ...common, kind: 'array', scalar: elem, count: r.nelems }
          : { ...common, kind: 'array', count: r.nelems },
      );
    } else if (r.kind === 'ptr') {
      out.push({ ...common, kind: 'ptr', scalar: 'u64' });
    } else {
      const s = scalarOf(btf, m.type);
      if (!s) throw new BtfError(`member ${m.name} of type id ${id}: no scalar kind for ${common.ctype}`);
      out.push({ ...common, kind: 'scalar', scalar: s });
    }
  }
  return out;
}

/** The IR aggregate for `struct tag` / `union tag` from BTF, or undefined if BTF lacks it. */
export function btfAggregate(btf: Btf, name: string): IrAggregate | undefined {
  const [kind, tag] = name.split(' ') as ['struct' | 'union', string];
  const found = findNamed(btf, kind, tag);
  if (!found) return undefined;
  const t = found.type as Extract<typeof found.type, { kind: 'struct' | 'union' }>;
  const align = btfAlignOf(btf, found.id);
  return { name, size: t.size, align, members: members(btf, found.id, 0), from: 'btf' };
}
