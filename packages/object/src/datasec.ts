/**
 * The variables of a DATASEC as libbpf sees them after its fixup: clang leaves a DATASEC's
 * size and its global variables' offsets at 0, so those come from the ELF symbols; a global
 * with hidden or internal visibility counts as static. Sorted by offset.
 */
import type { Datasec, Type } from '@ebpf/btf';
import { BtfVarLinkage } from '@ebpf/uapi';
import { STB_LOCAL, STT_OBJECT, STV_HIDDEN, STV_INTERNAL } from './elf/constants.ts';
import { ObjectError } from './errors.ts';
import type { ObjectFile } from './object-file.ts';

export interface DatasecVariable {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** The variable's type (the `Var`'s target). */
  readonly type: Type;
  readonly linkage: number;
}

export function datasecVariables(object: ObjectFile, datasec: Datasec): DatasecVariable[] {
  const btf = object.btf;
  if (btf === undefined) return [];
  const out: DatasecVariable[] = [];
  for (const info of datasec.vars) {
    const v = btf.typeById(info.type);
    if (v.kind !== 'var')
      throw new ObjectError(`DATASEC ${datasec.name} holds type ${info.type} (${v.kind}), not a variable`, {
        section: '.BTF',
      });
    let { offset } = info;
    let linkage: number = v.linkage;
    if (linkage !== BtfVarLinkage.Static && linkage !== BtfVarLinkage.GlobalExtern) {
      const symbol = object.symbols.find(
        (s) => s.name === v.name && s.type === STT_OBJECT && s.binding !== STB_LOCAL,
      );
      if (symbol === undefined)
        throw new ObjectError(`variable ${v.name} of ${datasec.name} has no ELF symbol`, {
          section: datasec.name,
        });
      if (datasec.size === 0) offset = Number(symbol.value);
      if (symbol.visibility === STV_HIDDEN || symbol.visibility === STV_INTERNAL)
        linkage = BtfVarLinkage.Static;
    }
    out.push({ name: v.name, offset, size: info.size, type: btf.typeById(v.type), linkage });
  }
  return out.sort((a, b) => a.offset - b.offset);
}
