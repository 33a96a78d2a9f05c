/**
 * Global data: each of `.data`, `.bss`, `.rodata`, `.data.*`, `.rodata.*` (and `.kconfig` when
 * the object has kconfig externs) is one single-element array map whose value is the section,
 * named for the kernel as libbpf names it; each variable of its DATASEC is a VariableSpec over
 * the map's initial bytes.
 */
import type { Btf, Type } from '@ebpf/btf';
import { BtfIntEncoding, BtfVarLinkage, MapFlags } from '@ebpf/uapi';
import { type DatasecVariable, datasecVariables } from './datasec.ts';
import { ObjectError } from './errors.ts';
import type { Externs } from './externs.ts';
import type { ObjectFile } from './object-file.ts';
import type { MapSpec, VariableSpec } from './spec.ts';

const OBJ_NAME_LEN = 16;
/** Far above what the kernel accepts for a map value (KMALLOC_MAX_SIZE), far below what would exhaust memory. */
const MAX_VALUE_SIZE = 1 << 30;

/**
 * libbpf's name for a global data map: as much of the object's name as fits before the
 * section name (which keeps at least 7 characters), none for `.data.*`/`.rodata.*` sections,
 * 15 characters at most, characters the kernel refuses replaced by `_`.
 */
export function globalMapName(objectName: string, section: string): string {
  const suffix = Math.min(Math.max(7, section.length), OBJ_NAME_LEN - 1);
  const custom = section.indexOf('.', 1) >= 0;
  const prefix = custom ? 0 : Math.min(OBJ_NAME_LEN - suffix - 1, objectName.length);
  return `${objectName.slice(0, prefix)}${section.slice(0, suffix)}`.replace(/[^A-Za-z0-9_.]/g, '_');
}

export interface Globals {
  readonly maps: MapSpec[];
  readonly variables: VariableSpec[];
}

export function readGlobals(object: ObjectFile, objectName: string, externs: Externs): Globals {
  const maps: MapSpec[] = [];
  const variables: VariableSpec[] = [];
  const little = object.elf.littleEndian;
  const add = (section: string, data: Uint8Array, readOnly: boolean, datasec: Type | undefined) => {
    const vars = datasec?.kind === 'datasec' ? datasecVariables(object, datasec) : [];
    maps.push(globalMap(objectName, section, data, readOnly, datasec, vars));
    return vars;
  };
  for (const section of object.sectionsOf('data')) {
    const data = valueBytes(section.size, section.name);
    data.set(object.elf.data(section));
    const vars = add(
      section.name,
      data,
      section.name.startsWith('.rodata'),
      object.btf?.typeByName(section.name, 'datasec'),
    );
    for (const v of vars) {
      if (v.offset + v.size > data.length)
        throw new ObjectError(
          `variable ${v.name} (${v.size} bytes at ${v.offset}) lies past the section's end`,
          {
            section: section.name,
          },
        );
      variables.push(variable(object.btf as Btf, v, section.name, data, little));
    }
  }
  if (externs.kconfigSize > 0)
    add('.kconfig', valueBytes(externs.kconfigSize, '.kconfig'), true, externs.kconfigType);
  return { maps, variables };
}

/** Zeroed bytes for a map value; sizes no file vouches for (.bss, .kconfig) are checked first. */
function valueBytes(size: number, section: string): Uint8Array {
  if (size > MAX_VALUE_SIZE)
    throw new ObjectError(`needs ${size} bytes, more than a map value can hold (${MAX_VALUE_SIZE})`, {
      section,
    });
  return new Uint8Array(size);
}

function globalMap(
  objectName: string,
  section: string,
  data: Uint8Array,
  readOnly: boolean,
  datasec: Type | undefined,
  vars: readonly DatasecVariable[],
): MapSpec {
  // libbpf maps the value into user space only when some variable is not static.
  const mmapable = vars.some((v) => v.linkage !== BtfVarLinkage.Static);
  return {
    name: section,
    kernelName: globalMapName(objectName, section),
    type: 'array',
    keySize: 4,
    valueSize: data.length,
    maxEntries: 1,
    flags: (readOnly ? MapFlags.RdonlyProg : 0) | (mmapable ? MapFlags.Mmapable : 0),
    pinning: 'none',
    ...(datasec?.kind === 'datasec' ? { valueType: datasec } : {}),
    contents: [],
    data,
    readOnly,
  };
}

function variable(
  btf: Btf,
  v: DatasecVariable,
  section: string,
  data: Uint8Array,
  little: boolean,
): VariableSpec {
  const { name, offset, size, type } = v;
  const view = new DataView(data.buffer, data.byteOffset + offset, size);
  const scalar = scalarOf(btf, type, size);
  const fail = (message: string): never => {
    throw new ObjectError(`variable ${name}: ${message}`, { section });
  };
  return {
    name,
    section,
    offset,
    size,
    type,
    get() {
      if (scalar === undefined) return data.slice(offset, offset + size);
      const value = readScalar(view, scalar, little);
      return scalar.bool ? value !== 0 : value;
    },
    set(value: unknown) {
      if (value instanceof Uint8Array) {
        if (value.length !== size) fail(`takes exactly ${size} bytes, got ${value.length}`);
        data.set(value, offset);
        return;
      }
      if (scalar === undefined)
        return fail(`is a ${btf.nameOf(type.id)}; set it with a Uint8Array of ${size} bytes`);
      const number = scalar.bool && typeof value === 'boolean' ? Number(value) : value;
      writeScalar(view, scalar, little, number, fail);
    },
  };
}

interface Scalar {
  readonly size: 1 | 2 | 4 | 8;
  readonly signed: boolean;
  readonly bool: boolean;
  readonly float: boolean;
}

/** How an int, enum, bool or float of `size` bytes is read; undefined for anything else. */
function scalarOf(btf: Btf, type: Type, size: number): Scalar | undefined {
  const t = btf.resolve(type.id);
  if (!('size' in t) || t.size !== size || ![1, 2, 4, 8].includes(size)) return undefined;
  const s = size as 1 | 2 | 4 | 8;
  switch (t.kind) {
    case 'int':
      return {
        size: s,
        signed: (t.encoding & BtfIntEncoding.Signed) !== 0,
        bool: (t.encoding & BtfIntEncoding.Bool) !== 0,
        float: false,
      };
    case 'enum':
    case 'enum64':
      return { size: s, signed: t.signed, bool: false, float: false };
    case 'float':
      return size === 4 || size === 8 ? { size: s, signed: true, bool: false, float: true } : undefined;
    default:
      return undefined;
  }
}

function readScalar(view: DataView, s: Scalar, little: boolean): number | bigint {
  if (s.float) return s.size === 4 ? view.getFloat32(0, little) : view.getFloat64(0, little);
  switch (s.size) {
    case 1:
      return s.signed ? view.getInt8(0) : view.getUint8(0);
    case 2:
      return s.signed ? view.getInt16(0, little) : view.getUint16(0, little);
    case 4:
      return s.signed ? view.getInt32(0, little) : view.getUint32(0, little);
    case 8:
      return s.signed ? view.getBigInt64(0, little) : view.getBigUint64(0, little);
  }
}

function writeScalar(
  view: DataView,
  s: Scalar,
  little: boolean,
  value: unknown,
  fail: (message: string) => never,
): void {
  if (s.float) {
    if (typeof value !== 'number') fail(`is a float; set it with a number, got ${typeof value}`);
    if (s.size === 4) view.setFloat32(0, value as number, little);
    else view.setFloat64(0, value as number, little);
    return;
  }
  const bits = BigInt(s.size * 8);
  const min = s.signed ? -(1n << (bits - 1n)) : 0n;
  const max = s.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const big =
    typeof value === 'bigint' ? value : Number.isInteger(value) ? BigInt(value as number) : undefined;
  if (big === undefined || big < min || big > max)
    fail(
      `takes a${s.signed ? ' signed' : 'n unsigned'} ${s.size * 8}-bit integer (${min} to ${max}), got ${String(value)}`,
    );
  const raw = BigInt.asUintN(s.size * 8, big as bigint);
  switch (s.size) {
    case 1:
      view.setUint8(0, Number(raw));
      return;
    case 2:
      view.setUint16(0, Number(raw), little);
      return;
    case 4:
      view.setUint32(0, Number(raw), little);
      return;
    case 8:
      view.setBigUint64(0, raw, little);
  }
}
