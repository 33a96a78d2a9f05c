/**
 * Candidate search: the target types a local type may stand for. A candidate has the local
 * type's essential name (flavour dropped on both sides) and a compatible kind. Exact names come
 * from the target's own name index; target types that carry a flavour themselves (vmlinux has
 * a few, like `nf_conn___init`) are found once per target by one scan of its type names.
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

const flavoured = new WeakMap<Btf, Map<string, TypeId[]>>();

/** Essential name → ids of the types of `btf` itself (not its base) whose names carry a flavour. */
export function flavouredTypes(btf: Btf): Map<string, TypeId[]> {
  let index = flavoured.get(btf);
  if (index) return index;
  index = new Map();
  for (let id = btf.firstId; id < btf.nextId; id++) {
    const name = btf.typeName(id);
    if (!name.includes('___')) continue;
    const essential = essentialName(name);
    if (essential === name) continue;
    const ids = index.get(essential);
    if (ids) ids.push(id);
    else index.set(essential, [id]);
  }
  flavoured.set(btf, index);
  return index;
}

/** Ids in `btf` itself (not its base) whose essential name is `name`, in id order. */
function typesCalled(btf: Btf, name: string): TypeId[] {
  const exact = btf
    .typesByName(name)
    .map((t) => t.id)
    .filter((id) => id >= btf.firstId);
  const other = flavouredTypes(btf).get(name);
  return other ? [...exact, ...other].sort((a, b) => a - b) : exact;
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
    for (const id of typesCalled(btf, name)) {
      if (kindsCompatible(btf.typeById(id), local)) found.push({ btf, id });
    }
  }
  return found;
}
