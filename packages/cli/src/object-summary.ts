/**
 * What `ebpf object show` says of an ELF object: its programs, maps, variables, externs and BTF,
 * and with `--relocs` what each program's instructions refer to by name. Pure: the object is
 * parsed by `@ebpf/object`, nothing is loaded.
 */
import { basename } from 'node:path';
import { isLddw } from '@ebpf/asm';
import type { Btf, Type } from '@ebpf/btf';
import { CollectionSpec, type MapSpec, type ProgramSpec } from '@ebpf/object';
import { CoreReloKind, PseudoSrc } from '@ebpf/uapi';
import { parseOrExplain } from './btf-input.ts';
import { readInput } from './commands/asm.ts';
import { type BtfStats, btfStats } from './commands/btf-show.ts';
import { enumName } from './format/names.ts';

export interface ProgramSummary {
  name: string;
  section: string;
  type: string;
  attachType?: string;
  attachTo?: string;
  /** Instructions after linking its subprograms in. */
  instructions: number;
  /** Bytes of those instructions (a 64-bit immediate load takes 16). */
  size: number;
  license: string;
  /** False for `SEC("?...")`: not loaded unless asked for. */
  autoload: boolean;
  flags: number;
  /** Why loading it will fail, when the object already tells. */
  problem?: string;
}

export interface MapSummary {
  name: string;
  kernelName: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: string;
  /** C spellings of the BTF key and value types, when the map has them. */
  keyType?: string;
  valueType?: string;
  /** The template of a map of maps' inner maps. */
  innerMap?: MapSummary;
}

export interface VariableSummary {
  name: string;
  section: string;
  offset: number;
  size: number;
  type: string;
}

export interface ExternSummary {
  name: string;
  kind: string;
  weak: boolean;
  type: string;
}

/** One instruction that refers to something by name, for the loader to resolve. */
export interface Relocation {
  program: string;
  /** Index into the program's instructions. */
  insn: number;
  kind: 'map' | 'map_value' | 'kfunc' | 'extern' | 'core';
  /** The map, kernel function, extern, or for CO-RE the local type (`struct task_struct`). */
  target: string;
  /** Byte offset into a global data map's value. */
  offset?: number;
  /** CO-RE only: the relocation kind (`field_byte_offset`) and the access string. */
  coreKind?: string;
  accessString?: string;
}

export interface ObjectSummary {
  file: string;
  /** libbpf's name for it: the file name up to its first `.`. */
  name: string;
  byteOrder: 'little' | 'big';
  programs: ProgramSummary[];
  maps: MapSummary[];
  variables: VariableSummary[];
  externs: ExternSummary[];
  btf?: BtfStats;
  relocations?: Relocation[];
}

/** Parses the ELF object at `path`, named as libbpf names it: the file name up to its first `.`. */
export function readObject(path: string): CollectionSpec {
  const bytes = new Uint8Array(readInput(path));
  const name = basename(path).split('.')[0] ?? '';
  return parseOrExplain(path, () => CollectionSpec.parse(bytes, { name }));
}

/** Parses the object at `path` and summarises it; `relocs` adds the relocations. */
export function summarizeObject(path: string, relocs: boolean): ObjectSummary {
  const spec = readObject(path);
  const { name } = spec;
  const typeName = (type: Type | undefined) => (type === undefined ? undefined : cType(spec.btf, type));
  const programs = Object.values(spec.programs);
  return {
    file: path,
    name,
    byteOrder: spec.byteOrder,
    programs: programs.map(programSummary),
    maps: Object.values(spec.maps).map((m) => mapSummary(m, typeName)),
    variables: Object.values(spec.variables).map((v) => ({
      name: v.name,
      section: v.section,
      offset: v.offset,
      size: v.size,
      type: typeName(v.type) ?? '?',
    })),
    externs: Object.values(spec.externs).map((e) => ({
      name: e.name,
      kind: e.kind,
      weak: e.weak,
      type: typeName(e.type) ?? '?',
    })),
    ...(spec.btf && { btf: btfStats(spec.btf) }),
    ...(relocs && { relocations: programs.flatMap((p) => relocationsOf(p, spec.btf)) }),
  };
}

/** The C spelling of a type (`struct event *`), or its kind when the object has no BTF to name it. */
function cType(btf: Btf | undefined, type: Type): string {
  return btf ? btf.nameOf(type.id) : type.kind;
}

function programSummary(p: ProgramSpec): ProgramSummary {
  return {
    name: p.name,
    section: p.section,
    type: p.type,
    ...(p.attachType !== undefined && { attachType: p.attachType }),
    ...(p.attachTo !== undefined && { attachTo: p.attachTo }),
    instructions: p.instructions.length,
    size: p.instructions.reduce((sum, insn) => sum + (isLddw(insn.op) ? 16 : 8), 0),
    license: p.license,
    autoload: p.autoload,
    flags: p.flags,
    ...(p.problem && { problem: p.problem.reason }),
  };
}

function mapSummary(m: MapSpec, typeName: (type: Type | undefined) => string | undefined): MapSummary {
  const keyType = typeName(m.keyType);
  const valueType = typeName(m.valueType);
  return {
    name: m.name,
    kernelName: m.kernelName,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    pinning: m.pinning,
    ...(keyType !== undefined && { keyType }),
    ...(valueType !== undefined && { valueType }),
    ...(m.innerMap && { innerMap: mapSummary(m.innerMap, typeName) }),
  };
}

/** The program's instructions that name maps, kernel functions or externs, and its CO-RE records. */
function relocationsOf(p: ProgramSpec, btf: Btf | undefined): Relocation[] {
  const out: Relocation[] = [];
  const externs = new Map(p.externReferences.map((e) => [e.insn, e.name]));
  p.instructions.forEach((insn, i) => {
    const extern = externs.get(i);
    if (extern !== undefined) out.push({ program: p.name, insn: i, kind: 'extern', target: extern });
    else if (insn.map !== undefined && insn.src === PseudoSrc.MapValue)
      out.push({
        program: p.name,
        insn: i,
        kind: 'map_value',
        target: insn.map,
        // The loader's convention: the offset into the value is the upper half of the immediate.
        offset: Number(BigInt.asUintN(64, BigInt(insn.imm)) >> 32n),
      });
    else if (insn.map !== undefined) out.push({ program: p.name, insn: i, kind: 'map', target: insn.map });
    else if (insn.kfunc !== undefined)
      out.push({ program: p.name, insn: i, kind: 'kfunc', target: insn.kfunc });
  });
  for (const r of p.coreRelocations)
    out.push({
      program: p.name,
      insn: r.insn,
      kind: 'core',
      target: btf ? btf.nameOf(r.typeId) : `type ${r.typeId}`,
      coreKind: enumName(CoreReloKind, r.kind, 'BPF_CORE_'),
      accessString: r.accessString,
    });
  return out.sort((a, b) => a.insn - b.insn);
}
