/**
 * C names for a dump. BTF may hold several types of one name (vmlinux has a few dozen), which C
 * cannot declare twice; like libbpf's btf_dump, the n-th one of a name to be printed becomes
 * `name___n`. Tags (struct, union, enum) and ordinary identifiers (typedefs, enumerators) are
 * counted apart, as C scopes them apart.
 */
import type { Type, TypeId } from '../types.ts';

class Occurrences {
  private readonly counts = new Map<string, number>();

  /** Counts one more use of `name`; the count so far. */
  next(name: string): number {
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    return n;
  }
}

export class CNames {
  private readonly tags = new Occurrences();
  private readonly idents = new Occurrences();
  private readonly chosen = new Map<TypeId, string>();

  /** The name of a struct, union, enum or fwd (int too: libbpf counts those as tags). */
  tag(t: Type): string {
    return this.choose(t, this.tags);
  }

  /** The name of a typedef. */
  ident(t: Type): string {
    return this.choose(t, this.idents);
  }

  /** The name of an enumerator, counted anew on every print, as libbpf does. */
  enumerator(name: string): string {
    return suffixed(name, this.idents.next(name));
  }

  private choose(t: Type, space: Occurrences): string {
    if (t.name === '') return '';
    const known = this.chosen.get(t.id);
    if (known !== undefined) return known;
    // Declarations without a body may repeat: they declare nothing twice.
    const bodiless = t.kind === 'fwd' || (t.kind === 'enum' && t.values.length === 0);
    const name = bodiless ? t.name : suffixed(t.name, space.next(t.name));
    this.chosen.set(t.id, name);
    return name;
  }
}

const suffixed = (name: string, n: number): string => (n > 1 ? `${name}___${n}` : name);
