/**
 * Which BTF types a generated module declares: the key and value types of the object's maps,
 * the types of its globals, its records, and the types named with `--type`.
 *
 * A record (what a program writes to a ring or perf buffer) is a struct C code only uses behind
 * a pointer in a function, so clang leaves it out of BTF. The object marks it with a global
 * pointer that nothing uses, which clang keeps with its type:
 * ```c
 * const struct event *unused_event __attribute__((unused));
 * ```
 * Every struct or union a global points to is declared.
 */
import type { Btf, Type, TypeId } from '@ebpf/btf';
import type { MapSpec, VariableSpec } from '@ebpf/core';
import { CliError, ExitCode } from '../exit-codes.ts';

/** Map types whose elements are data (not fds or records), so worth typed codecs. */
export const DATA_MAP_TYPES = new Set([
  'hash',
  'array',
  'percpu_hash',
  'percpu_array',
  'lru_hash',
  'lru_percpu_hash',
  'lpm_trie',
  'queue',
  'stack',
  'bloom_filter',
]);

/** What the generator reads of an object. */
export interface ObjectTypes {
  readonly btf: Btf;
  readonly maps: Readonly<Record<string, MapSpec>>;
  readonly variables: Readonly<Record<string, VariableSpec>>;
}

const DECLARABLE = new Set(['struct', 'union', 'enum', 'enum64', 'typedef']);

/** The declarable type behind qualifiers (and, with `throughPointer`, one pointer), or undefined. */
function declarable(btf: Btf, type: Type, throughPointer: boolean): Type | undefined {
  let t = type;
  for (let depth = 0; depth < 256; depth++) {
    if (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') {
      t = btf.typeById(t.target);
    } else if (t.kind === 'ptr' && throughPointer) {
      t = btf.typeById(t.target);
      throughPointer = false;
    } else if (t.kind === 'array') {
      t = btf.typeById(t.element);
    } else break;
  }
  if (!DECLARABLE.has(t.kind)) return undefined;
  // Anonymous structs, unions and enums have no name to declare under.
  if (t.kind !== 'typedef' && t.name === '') return undefined;
  // Typedefs of functions or of nothing have no value.
  if (
    t.kind === 'typedef' &&
    !['int', 'float', 'struct', 'union', 'enum', 'enum64', 'ptr', 'array'].includes(btf.resolve(t.id).kind)
  )
    return undefined;
  return t;
}

/** The type ids to declare, each once, in the order found (maps, globals, records, `--type`). */
export function collectTypes(object: ObjectTypes, named: readonly string[]): TypeId[] {
  const { btf } = object;
  const roots = new Set<TypeId>();
  const add = (type: Type | undefined, throughPointer = false): void => {
    const t = type && declarable(btf, type, throughPointer);
    if (t !== undefined) roots.add(t.id);
  };
  for (const map of Object.values(object.maps)) {
    if (!DATA_MAP_TYPES.has(map.type)) continue;
    add(map.keyType);
    add(map.valueType);
  }
  for (const variable of Object.values(object.variables)) {
    add(variable.type);
    const pointee = declarable(btf, variable.type, true);
    if (pointee !== undefined && (pointee.kind === 'struct' || pointee.kind === 'union'))
      roots.add(pointee.id);
  }
  for (const name of named) roots.add(namedType(btf, name).id);
  return [...roots];
}

/** The struct, union, enum or typedef called `name` (`struct event`, or just `event` for any of them). */
function namedType(btf: Btf, name: string): Type {
  const [, kind, bare = name] = /^(?:(struct|union|enum)\s+)?(.*)$/.exec(name.trim()) ?? [];
  const kinds = kind === undefined ? DECLARABLE : new Set(kind === 'enum' ? ['enum', 'enum64'] : [kind]);
  const match = btf
    .typesByName(bare)
    .find((t) => kinds.has(t.kind) && declarable(btf, t, false) !== undefined);
  if (match === undefined)
    throw new CliError(
      `--type ${name}: the object's BTF has no ${kind ?? 'struct, union, enum or typedef'} of that name` +
        ' (clang keeps only types its globals, maps and functions use: mark a record with' +
        ` \`const struct ${bare} *unused_${bare} __attribute__((unused));\`)`,
      ExitCode.Usage,
    );
  return match;
}
