/**
 * Maps as an ELF object declares them (`@ebpf/object`'s `MapSpec`) turned into the options
 * `BpfMap.create` takes, and created with what the object initialises: raw contents, the bytes
 * of a global data section, and `.rodata`/`.kconfig` frozen (as libbpf does, before any program
 * loads). Slots naming programs or maps are filled by `Collection.load` once those exist.
 */
import type { MapSpec as ObjectMapSpec } from '@ebpf/object';
import * as sys from '@ebpf/sys';
import { MapFlags } from '@ebpf/uapi';
import { InvalidArgumentError } from '../errors.ts';
import { elementError } from './errors.ts';
import { BpfMap } from './map.ts';
import { findMapType, type MapTypeName } from './map-types.ts';
import type { MapBtf, MapCreateOptions } from './spec.ts';

export type { ObjectMapSpec };

/** Whether `spec` is an object's `MapSpec` (it has `kernelName`, `pinning` and `contents`) rather than create options. */
export function isObjectMapSpec(spec: object): spec is ObjectMapSpec {
  return 'kernelName' in spec && 'pinning' in spec && 'contents' in spec;
}

/** The create options for `spec`; `btf` gives the key and value type ids in loaded object BTF. */
export function objectMapOptions(spec: ObjectMapSpec, btf?: MapBtf): MapCreateOptions {
  // The spec's flags are libbpf's (mmapable global data but string literal sections); read-only
  // data must be read-only for programs whatever they say, or freezing it would break them.
  let flags = spec.flags;
  if (spec.readOnly) flags |= MapFlags.RdonlyProg;
  // PERF_EVENT_ARRAY's 0 means one slot per possible CPU: create() fills that in when it is absent.
  const cpus = spec.maxEntries === 0 && findMapType(spec.type)?.maxEntries === 'cpus';
  return {
    type: spec.type as MapTypeName,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    ...(cpus ? {} : { maxEntries: spec.maxEntries }),
    flags,
    name: spec.kernelName,
    ...(spec.numaNode === undefined ? {} : { numaNode: spec.numaNode }),
    ...(spec.mapExtra === undefined ? {} : { mapExtra: spec.mapExtra }),
    ...(spec.innerMap === undefined ? {} : { innerMap: objectMapOptions(spec.innerMap) }),
    ...(btf === undefined ? {} : { btf }),
  };
}

const zeroKey = new Uint8Array(4);

/** Creates the map `spec` describes and fills what it initialises; closes it again if that fails. */
export function createObjectMap(spec: ObjectMapSpec, btf?: MapBtf): BpfMap {
  const map = BpfMap.create(objectMapOptions(spec, btf));
  try {
    if (spec.data !== undefined) {
      if (spec.data.length !== spec.valueSize) {
        throw new InvalidArgumentError(
          `map ${spec.name}: its data is ${spec.data.length} bytes but its value is ${spec.valueSize}`,
        );
      }
      // Straight to the kernel: map.update would bind an element accessor the map may never use.
      try {
        sys.mapUpdate(map.fd, zeroKey, spec.data, 0);
      } catch (error) {
        throw elementError(error, `writing the initial data of map ${spec.name}`, map.maxEntries);
      }
    }
    for (const content of spec.contents) {
      if ('value' in content) map.update(content.key, content.value);
    }
    if (spec.readOnly) map.freeze();
    return map;
  } catch (error) {
    map.close();
    throw error;
  }
}
