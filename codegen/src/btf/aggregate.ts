/**
 * Converts BTF structs and unions into IR aggregates, keeping the offsets BTF records (the
 * compiler's truth for the running kernel), spelled like the header spells them.
 */
import { type Btf, BtfError, type TypeId } from '@ebpf/btf';
import { BtfIntEncoding } from '@ebpf/uapi';
import type { IrAggregate, IrMember, IrScalar } from '../ir.ts';

const fail = (message: string): never => {
  throw new BtfError(message, -1);
};

function spell(btf: Btf, id: TypeId): string {
  const t = btf.typeById(id);
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'ptr':
      return `${spell(btf, t.target)} *`;
    case 'array':
      return `${spell(btf, t.element)}[${t.count}]`;
    case 'enum':
    case 'enum64':
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
      return spell(btf, t.target);
    default:
      return t.name;
  }
}

function scalarOf(btf: Btf, id: TypeId): IrScalar | undefined {
  const t = btf.resolve(id);
  if (t.kind === 'ptr') return 'u64';
  if (t.kind === 'enum' || t.kind === 'enum64') return `${t.signed ? 's' : 'u'}${t.size * 8}` as IrScalar;
  if (t.kind !== 'int' || ![1, 2, 4, 8].includes(t.size)) return undefined;
  return `${t.encoding & BtfIntEncoding.Signed ? 's' : 'u'}${t.size * 8}` as IrScalar;
}

function members(btf: Btf, id: TypeId, base: number): IrMember[] {
  const t = btf.resolve(id);
  if (t.kind !== 'struct' && t.kind !== 'union') return fail(`type id ${id} is not a struct or union`);
  const out: IrMember[] = [];
  for (const m of t.members) {
    const size = btf.sizeof(m.type);
    if (m.bitfieldSize > 0 || m.bitOffset % 8 !== 0) {
      const unitOffset = Math.floor(m.bitOffset / (size * 8)) * size;
      out.push({
        name: m.name,
        ctype: spell(btf, m.type),
        offset: base + unitOffset,
        size,
        kind: 'scalar',
        scalar: scalarOf(btf, m.type)!,
        bitOffset: m.bitOffset - unitOffset * 8,
        bitSize: m.bitfieldSize || size * 8,
      });
      continue;
    }
    const offset = base + m.bitOffset / 8;
    const r = btf.resolve(m.type);
    const common = { name: m.name, ctype: spell(btf, m.type), offset, size };
    if (r.kind === 'struct' || r.kind === 'union') {
      out.push({ ...common, kind: r.kind, members: members(btf, m.type, offset) });
    } else if (r.kind === 'array') {
      const elem = scalarOf(btf, r.element);
      out.push(
        elem
          ? { ...common, kind: 'array', scalar: elem, count: r.count }
          : { ...common, kind: 'array', count: r.count },
      );
    } else if (r.kind === 'ptr') {
      out.push({ ...common, kind: 'ptr', scalar: 'u64' });
    } else {
      const s = scalarOf(btf, m.type);
      if (!s) return fail(`member ${m.name} of type id ${id}: no scalar kind for ${common.ctype}`);
      out.push({ ...common, kind: 'scalar', scalar: s });
    }
  }
  return out;
}

/** The IR aggregate for `struct tag` / `union tag` from BTF (the first of that name), or undefined. */
export function btfAggregate(btf: Btf, name: string): IrAggregate | undefined {
  const [kind, tag] = name.split(' ') as ['struct' | 'union', string];
  const t = btf.typesByName(tag, kind)[0];
  if (t?.kind !== 'struct' && t?.kind !== 'union') return undefined;
  return { name, size: t.size, align: btf.alignof(t.id), members: members(btf, t.id, 0), from: 'btf' };
}
