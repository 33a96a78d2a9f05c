/**
 * `ebpf gen types`: one TypeScript module per object, with the object's types and codecs, its
 * spec and a typed `load()`. Collect the types (`collect.ts`), declare them (`@ebpf/btf`'s
 * `toTypeScript`), spell their codecs (`values.ts`), print (`module.ts`) and format (`format.ts`).
 */
import { type TypeId, toTypeScript } from '@ebpf/btf';
import { CollectionSpec } from '@ebpf/core';
import { CliError, ExitCode } from '../exit-codes.ts';
import { collectTypes, DATA_MAP_TYPES } from './collect.ts';
import { formatTypeScript } from './format.ts';
import { type MapEntry, type ObjectSource, printModule } from './module.ts';
import { typedOf, variableType } from './values.ts';

export { clangArguments, compileC } from './compile.ts';
export { GENERATED } from './module.ts';

export interface GenerateOptions {
  /** The object's bytes. */
  readonly object: Uint8Array;
  /** The object's name (libbpf's: its file name up to the first '.'). */
  readonly name: string;
  /** Embedded, or the object's path relative to the generated module. */
  readonly source: { readonly kind: 'embed' } | { readonly kind: 'path'; readonly path: string };
  /** More types to declare, by name (`event`, `struct event`). */
  readonly types?: readonly string[];
  /** Lines after the do-not-edit header: where the module came from, how to make it again. */
  readonly provenance?: readonly string[];
}

/** The generated module's text. */
export function generateTypes(options: GenerateOptions): string {
  const spec = CollectionSpec.parse(options.object, { name: options.name });
  const btf = spec.btf;
  if (btf === undefined)
    throw new CliError(`${options.name} has no BTF: build it with clang -g`, ExitCode.Usage);
  const output = toTypeScript(
    btf,
    collectTypes({ btf, maps: spec.maps, variables: spec.variables }, options.types ?? []),
  );
  const names = new Map<TypeId, string>(output.declarations.map((d) => [d.typeId, d.name]));
  const maps: MapEntry[] = Object.values(spec.maps).map((map) => {
    const perCpu = map.type.includes('percpu');
    const typed =
      DATA_MAP_TYPES.has(map.type) && map.valueType !== undefined && map.valueType.kind !== 'datasec';
    if (!typed) return { name: map.name, perCpu };
    // Queues, stacks and bloom filters have no key: their codec is the default.
    const key = map.keyType !== undefined ? typedOf(btf, map.keyType.id, names) : undefined;
    const value = typedOf(btf, (map.valueType as { id: TypeId }).id, names);
    if (value === undefined || (map.keySize > 0 && key === undefined)) return { name: map.name, perCpu };
    return { name: map.name, perCpu, value, ...(key !== undefined && { key }) };
  });
  const source: ObjectSource =
    options.source.kind === 'embed'
      ? { kind: 'embed', base64: Buffer.from(options.object).toString('base64') }
      : options.source;
  return formatTypeScript(
    printModule({
      provenance: options.provenance ?? [],
      objectName: options.name,
      declarations: output.declarations,
      programs: Object.entries(spec.programs).map(([name, p]) => ({ name, autoload: p.autoload })),
      maps,
      variables: Object.values(spec.variables).map((v) => ({
        name: v.name,
        ts: variableType(btf, v.type, v.size),
      })),
      source,
    }),
  );
}
