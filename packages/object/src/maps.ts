/**
 * Maps an object declares: BTF-defined ones in `.maps` (the `__uint`/`__type`/`__array` fields
 * of `bpf_helpers.h`, read with libbpf's rules) and legacy `struct bpf_map_def` ones in `maps`.
 * A field that contradicts another, or one libbpf does not know, is an {@link ObjectError}
 * naming the map and the field.
 */
import type { Btf, Member, Type } from '@ebpf/btf';
import { cNameOf, MapType } from '@ebpf/uapi';
import { datasecVariables } from './datasec.ts';
import { STT_OBJECT } from './elf/constants.ts';
import type { ElfSection } from './elf/elf.ts';
import { ObjectError } from './errors.ts';
import type { ObjectFile } from './object-file.ts';
import type { MapContent, MapPinning, MapSpec } from './spec.ts';

/** `LIBBPF_PIN_NONE`, `LIBBPF_PIN_BY_NAME`. */
const pinnings: readonly MapPinning[] = ['none', 'by_name'];
/** Bytes of one pointer in a `values` array. */
const POINTER = 8;

/** The name `BpfMap.create` takes for `BPF_MAP_TYPE_*` value `type`, undefined when unknown. */
export function mapTypeName(type: number): string | undefined {
  const cName = cNameOf(MapType, type);
  return cName === undefined || type === 0 ? undefined : cName.slice('BPF_MAP_TYPE_'.length).toLowerCase();
}

export function readMaps(object: ObjectFile): MapSpec[] {
  return [...object.sectionsOf('btf_maps').flatMap((s) => btfMaps(object, s)), ...legacyMaps(object)];
}

function btfMaps(object: ObjectFile, section: ElfSection): MapSpec[] {
  const btf = object.btf;
  if (btf === undefined)
    throw new ObjectError('declares maps but the object has no BTF; build it with clang -g', {
      section: section.name,
    });
  const datasec = btf.typeByName(section.name, 'datasec');
  if (datasec?.kind !== 'datasec')
    throw new ObjectError('declares maps but BTF has no DATASEC describing them; build it with clang -g', {
      section: section.name,
    });
  const relocations = object.relocations(section);
  return datasecVariables(object, datasec).map((v) => {
    const valuesAt = (start: number): Map<number, string> => {
      const out = new Map<number, string>();
      for (const rel of relocations) {
        const at = rel.offset - v.offset - start;
        if (at < 0 || rel.offset >= v.offset + v.size) continue;
        out.set(at / POINTER, object.symbols[rel.symbol]?.name ?? `#${rel.symbol}`);
      }
      return out;
    };
    return btfMap(btf, v.name, v.type.id, { section: section.name, valuesAt });
  });
}

interface MapPlace {
  readonly section: string;
  /** The symbols the `values` slots at byte `start` of the map's definition point to, by slot. */
  readonly valuesAt?: (start: number) => Map<number, string>;
}

/** One map definition struct (also an `__array` inner template, which has no `values`). */
function btfMap(btf: Btf, name: string, typeId: number, place: MapPlace): MapSpec {
  const fail = (field: string, message: string): never => {
    throw new ObjectError(`map ${name}: ${field}: ${message}`, { section: place.section });
  };
  const def = btf.resolve(typeId);
  if (def.kind !== 'struct')
    return fail('definition', `is a ${def.kind}, not a struct of __uint/__type fields`);
  let type: string | undefined;
  let keySize: number | undefined;
  let valueSize: number | undefined;
  let keyType: Type | undefined;
  let valueType: Type | undefined;
  let innerMap: MapSpec | undefined;
  let contents: MapContent[] = [];
  const fields: Record<string, number | bigint> = {};
  const size = (field: string, current: number | undefined, value: number): number => {
    if (current !== undefined && current !== value)
      fail(field, `is ${value} bytes but the map also says ${current}; drop one of them`);
    return value;
  };

  for (const member of def.members) {
    switch (member.name) {
      case 'type': {
        const value = uintField(btf, member, fail);
        type = mapTypeName(value) ?? fail('type', `${value} is not a BPF_MAP_TYPE_* this library knows`);
        break;
      }
      case 'max_entries':
      case 'map_flags':
      case 'numa_node':
      case 'pinning':
        fields[member.name] = uintField(btf, member, fail);
        break;
      case 'map_extra':
        fields[member.name] = BigInt(uintField(btf, member, fail));
        break;
      case 'key_size':
        keySize = size('key_size', keySize, uintField(btf, member, fail));
        break;
      case 'value_size':
        valueSize = size('value_size', valueSize, uintField(btf, member, fail));
        break;
      case 'key':
        keyType = pointee(btf, member, fail);
        keySize = size('key', keySize, btf.sizeof(keyType.id));
        break;
      case 'value':
        valueType = pointee(btf, member, fail);
        valueSize = size('value', valueSize, btf.sizeof(valueType.id));
        break;
      case 'values': {
        const values = readValues(btf, name, member, place, type, fail);
        innerMap = values.innerMap;
        contents = values.contents;
        valueSize = size('values', valueSize, 4);
        keySize ??= 4;
        break;
      }
      default:
        fail(
          member.name || '(unnamed)',
          'is not a map field libbpf knows (type, key, value, max_entries, ...)',
        );
    }
  }
  const pinning = pinnings[Number(fields.pinning ?? 0)];
  if (pinning === undefined)
    fail('pinning', `${fields.pinning} is neither LIBBPF_PIN_NONE nor LIBBPF_PIN_BY_NAME`);
  return {
    name,
    kernelName: name.slice(0, 15),
    type: type ?? fail('type', 'is missing; add __uint(type, BPF_MAP_TYPE_...)'),
    keySize: keySize ?? 0,
    valueSize: valueSize ?? 0,
    maxEntries: Number(fields.max_entries ?? 0),
    flags: Number(fields.map_flags ?? 0),
    ...(fields.numa_node === undefined ? {} : { numaNode: Number(fields.numa_node) }),
    ...(fields.map_extra === undefined ? {} : { mapExtra: fields.map_extra as bigint }),
    pinning: pinning as MapPinning,
    ...(innerMap === undefined ? {} : { innerMap }),
    ...(keyType === undefined ? {} : { keyType }),
    ...(valueType === undefined ? {} : { valueType }),
    contents,
  };
}

type Fail = (field: string, message: string) => never;

/** `__uint(name, value)` is `int (*name)[value]`. */
function uintField(btf: Btf, member: Member, fail: Fail): number {
  const ptr = btf.resolve(member.type);
  const array = ptr.kind === 'ptr' ? btf.resolve(ptr.target) : undefined;
  if (array?.kind !== 'array') return fail(member.name, 'must be written __uint(name, value)');
  return array.count;
}

/** `__type(name, T)` is `T *name`. */
function pointee(btf: Btf, member: Member, fail: Fail): Type {
  const ptr = btf.resolve(member.type);
  if (ptr.kind !== 'ptr') return fail(member.name, 'must be written __type(name, T)');
  return btf.typeById(ptr.target);
}

/** `__array(values, T)`: inner map template (maps of maps) or programs (prog arrays), plus initial slots. */
function readValues(
  btf: Btf,
  name: string,
  member: Member,
  place: MapPlace,
  type: string | undefined,
  fail: Fail,
): { innerMap?: MapSpec; contents: MapContent[] } {
  const array = btf.resolve(member.type);
  const ptr = array.kind === 'array' ? btf.resolve(array.element) : undefined;
  if (ptr?.kind !== 'ptr') return fail('values', 'must be written __array(values, ...)');
  const isProgs = type === 'prog_array';
  if (!isProgs && type !== 'array_of_maps' && type !== 'hash_of_maps')
    return fail('values', `needs a prog_array or a map of maps, and ${type ?? 'no type'} comes before it`);
  if (member.bitOffset % 8 !== 0) return fail('values', 'is not byte aligned');
  const slots = place.valuesAt?.(member.bitOffset / 8) ?? new Map<number, string>();
  const contents: MapContent[] = [...slots].map(([key, target]) =>
    isProgs ? { key, program: target } : { key, map: target },
  );
  if (isProgs) return { contents };
  const innerMap = btfMap(btf, `${name}.inner`, ptr.target, { section: place.section });
  return { innerMap, contents };
}

/** `struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }` in `maps`. */
const LEGACY_FIELDS = 5;

function legacyMaps(object: ObjectFile): MapSpec[] {
  const out: MapSpec[] = [];
  const little = object.elf.littleEndian;
  for (const section of object.sectionsOf('legacy_maps')) {
    const bytes = object.elf.data(section);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const symbol of object.symbols) {
      if (symbol.sectionIndex !== section.index || symbol.type !== STT_OBJECT) continue;
      const at = Number(symbol.value);
      const size = Number(symbol.size);
      const fail = (message: string): never => {
        throw new ObjectError(`map ${symbol.name}: ${message}`, { section: section.name, offset: at });
      };
      if (size < LEGACY_FIELDS * 4 || at + size > bytes.length)
        fail(`its ${size}-byte definition is not a struct bpf_map_def inside the section`);
      const field = (i: number): number => view.getUint32(at + 4 * i, little);
      for (let i = LEGACY_FIELDS * 4; i < size; i++)
        if (bytes[at + i] !== 0)
          fail('sets fields after map_flags, which libbpf does not support; use a BTF map in .maps');
      out.push({
        name: symbol.name,
        kernelName: symbol.name.slice(0, 15),
        type: mapTypeName(field(0)) ?? fail(`type ${field(0)} is not a BPF_MAP_TYPE_* this library knows`),
        keySize: field(1),
        valueSize: field(2),
        maxEntries: field(3),
        flags: field(4),
        pinning: 'none',
        contents: [],
      });
    }
  }
  return out;
}
