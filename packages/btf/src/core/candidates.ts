/**
 * Candidate search: the target types a local type may stand for. A candidate has the local
 * type's essential name (flavour dropped on both sides) and a compatible kind. The name index of
 * each target BTF is built once and kept as long as that BTF lives.
 */
import type { Btf } from '../btf.ts';
import type { Type, TypeId } from '../types.ts';
import { kindsCompatible } from './compat.ts';
import { essentialName } from './names.ts';

/** A target type that may stand for a local one. */
export interface Candidate {
  readonly btf: Btf;
  readonly id: TypeId;
}

const indexes = new WeakMap<Btf, Map<string, TypeId[]>>();

/** Essential name → ids of the named types of `btf` itself (not of its base), built on first use. */
export function nameIndex(btf: Btf): Map<string, TypeId[]> {
  let index = indexes.get(btf);
  if (index) return index;
  index = new Map();
  for (const t of btf.types()) {
    if (t.name === '') continue;
    const name = essentialName(t.name);
    const ids = index.get(name);
    if (ids) ids.push(t.id);
    else index.set(name, [t.id]);
  }
  indexes.set(btf, index);
  return index;
}

/**
 * Candidates for `local` among `targets`: the first target (vmlinux) first; the others (modules)
 * only when it has none, as libbpf does.
 */
export function findCandidates(local: Type, targets: readonly Btf[]): Candidate[] {
  const name = essentialName(local.name);
  const found: Candidate[] = [];
  for (const [i, btf] of targets.entries()) {
    if (i === 1 && found.length > 0) break;
    for (const id of nameIndex(btf).get(name) ?? []) {
      if (kindsCompatible(btf.typeById(id), local)) found.push({ btf, id });
    }
  }
  return found;
}
