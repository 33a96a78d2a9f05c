/**
 * Candidate search: the target types a local type may stand for. A candidate has the local
 * type's essential name (flavour dropped on both sides) and a compatible kind. Exact names come
 * from the target's own name index; target types that carry a flavour themselves (vmlinux has
 * a few, like `nf_conn___init`) through one search of its string section for `___`. The ids of
 * each kind and essential name are kept per target, so each is looked up once.
 */
import type { Btf } from '../btf.ts';
import { decodeName } from '../strings.ts';
import type { Kind, Type, TypeId } from '../types.ts';
import { essentialName, UNDERSCORE } from './names.ts';

/** A target type that may stand for a local one. */
export interface Candidate {
  readonly btf: Btf;
  readonly id: TypeId;
}

interface TargetIndex {
  /** Essential name → the flavoured names of this BTF's string section that reduce to it. */
  readonly flavoured: Map<string, string[]>;
  /** `kind essential-name` → the ids of this BTF (not its base) of that kind and name, in id order. */
  readonly byName: Map<string, readonly TypeId[]>;
}

const indexes = new WeakMap<Btf, TargetIndex>();

function targetIndex(btf: Btf): TargetIndex {
  let index = indexes.get(btf);
  if (index) return index;
  index = { flavoured: flavouredNames(btf), byName: new Map() };
  indexes.set(btf, index);
  return index;
}

/**
 * The strings of the section with a flavour (`x___y`), by essential name. They are looked up as
 * type names, by kind, only when a local type of that essential name asks.
 */
function flavouredNames(btf: Btf): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const { bytes } = btf.strings;
  // Three underscores in a row: look at every third byte, and around it only when it is one.
  for (let i = 2; i < bytes.length; i += 3) {
    if (bytes[i] !== UNDERSCORE || !inRun(bytes, i)) continue;
    const start = bytes.lastIndexOf(0, i) + 1;
    const end = bytes.indexOf(0, i);
    i = end;
    const name = decodeName(bytes, start, end);
    const essential = essentialName(name);
    if (essential === name) continue;
    const names = out.get(essential);
    if (names) names.push(name);
    else out.set(essential, [name]);
  }
  return out;
}

/** Whether the underscore at `i` is part of three in a row. */
function inRun(bytes: Uint8Array, i: number): boolean {
  const before = bytes[i - 1] === UNDERSCORE;
  const after = bytes[i + 1] === UNDERSCORE;
  return (
    (before && after) || (before && bytes[i - 2] === UNDERSCORE) || (after && bytes[i + 2] === UNDERSCORE)
  );
}

/** Ids of `kind` in `btf` itself (not its base) whose essential name is `name`, in id order. */
function typesCalled(btf: Btf, name: string, kind: Kind): readonly TypeId[] {
  const index = targetIndex(btf);
  const key = `${kind} ${name}`;
  let ids = index.byName.get(key);
  if (ids) return ids;
  const found: TypeId[] = [];
  for (const n of [name, ...(index.flavoured.get(name) ?? [])])
    for (const t of btf.typesByName(n, kind)) if (t.id >= btf.firstId) found.push(t.id);
  ids = found.sort((a, b) => a - b);
  index.byName.set(key, ids);
  return ids;
}

/** The kinds a candidate of a local type of `kind` may have. */
const candidateKinds = (kind: Kind): readonly Kind[] =>
  kind === 'enum' || kind === 'enum64' ? ['enum', 'enum64'] : [kind];

/**
 * Candidates for `local` among `targets`: the first target (vmlinux) first; the others (modules)
 * only when it has none, as libbpf does.
 */
export function findCandidates(local: Type, targets: readonly Btf[]): Candidate[] {
  const kernel = candidatesIn(local, targets.slice(0, 1));
  return kernel.length > 0 ? kernel : candidatesIn(local, targets.slice(1));
}

/** Candidates for `local` in every one of `btfs`, each walked in id order (enum and enum64 alike). */
export function candidatesIn(local: Type, btfs: readonly Btf[]): Candidate[] {
  const name = essentialName(local.name);
  const found: Candidate[] = [];
  for (const btf of btfs) {
    const ids = candidateKinds(local.kind).flatMap((kind) => typesCalled(btf, name, kind));
    if (ids.length > 1) ids.sort((a, b) => a - b);
    for (const id of ids) found.push({ btf, id });
  }
  return found;
}
