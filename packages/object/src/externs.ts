/**
 * Externs: undefined symbols that BTF places in the `.kconfig` or `.ksyms` DATASEC. `.kconfig`
 * ones get offsets in the `.kconfig` map laid out as libbpf lays them (by alignment descending,
 * then size, then name), so the loader fills the same bytes libbpf does.
 */
import type { Btf, Type } from '@ebpf/btf';
import { SHN_UNDEF, STB_WEAK, STT_SECTION } from './elf/constants.ts';
import { ObjectError } from './errors.ts';
import type { ObjectFile } from './object-file.ts';
import type { ExternSpec } from './spec.ts';

const KIND_OF_SECTION = { '.kconfig': 'kconfig', '.ksyms': 'ksym' } as const;

export interface Externs {
  readonly byName: ReadonlyMap<string, ExternSpec>;
  /** Bytes the `.kconfig` map needs (0 without kconfig externs). */
  readonly kconfigSize: number;
  /** The `.kconfig` DATASEC, the value type of its map. */
  readonly kconfigType: Type | undefined;
}

export function readExterns(object: ObjectFile): Externs {
  const btf = object.btf;
  const declared = btf === undefined ? new Map<string, Declared>() : declarations(btf);
  const found: Declared[] = [];
  for (const symbol of object.symbols) {
    if (symbol.index === 0 || symbol.sectionIndex !== SHN_UNDEF || symbol.name === '') continue;
    if (symbol.type === STT_SECTION) continue;
    const declaration = declared.get(symbol.name);
    // Without a BTF declaration the symbol stays unresolved: programs using it record why.
    if (declaration !== undefined) found.push({ ...declaration, weak: symbol.binding === STB_WEAK });
  }
  const kconfig = found.filter((d) => d.kind === 'kconfig');
  const sized = kconfig.map((d) => {
    const typeId = (d.btfType as { type: number }).type;
    return { d, size: (btf as Btf).sizeof(typeId), align: (btf as Btf).alignof(typeId) };
  });
  sized.sort(
    (a, b) =>
      b.align - a.align || a.size - b.size || (a.d.name < b.d.name ? -1 : a.d.name > b.d.name ? 1 : 0),
  );
  const offsets = new Map<string, number>();
  let end = 0;
  for (const { d, size, align } of sized) {
    const offset = Math.ceil(end / align) * align;
    offsets.set(d.name, offset);
    end = offset + size;
  }
  const byName = new Map<string, ExternSpec>();
  for (const d of found) {
    const offset = offsets.get(d.name);
    byName.set(d.name, {
      name: d.name,
      kind: d.kind,
      weak: d.weak,
      type: d.type,
      ...(offset === undefined ? {} : { offset }),
    });
  }
  return { byName, kconfigSize: end, kconfigType: btf?.typeByName('.kconfig', 'datasec') };
}

interface Declared {
  readonly name: string;
  readonly kind: 'kconfig' | 'ksym';
  readonly weak: boolean;
  /** The `Var` or `Func` in the DATASEC. */
  readonly btfType: Type;
  /** What the spec carries: the variable's type, or the function's prototype. */
  readonly type: Type;
}

function declarations(btf: Btf): Map<string, Declared> {
  const out = new Map<string, Declared>();
  for (const [section, kind] of Object.entries(KIND_OF_SECTION)) {
    const datasec = btf.typeByName(section, 'datasec');
    if (datasec?.kind !== 'datasec') continue;
    for (const info of datasec.vars) {
      const t = btf.typeById(info.type);
      if (t.kind === 'var')
        out.set(t.name, { name: t.name, kind, weak: false, btfType: t, type: btf.typeById(t.type) });
      else if (t.kind === 'func') {
        if (kind === 'kconfig')
          throw new ObjectError(`extern function ${t.name} cannot live in .kconfig; declare it __ksym`, {
            section,
          });
        out.set(t.name, { name: t.name, kind, weak: false, btfType: t, type: btf.typeById(t.proto) });
      }
    }
  }
  return out;
}
