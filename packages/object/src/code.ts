/**
 * Code sections read into instructions with their relocations made symbolic: map references
 * name their map, global data names its section, kfunc calls name the function, calls and
 * function addresses point at a (section, slot) the linker resolves. A relocation that cannot
 * be resolved is a problem of its instruction, so only programs that use it are affected.
 */
import {
  decode,
  type Instruction,
  isLddw,
  PseudoCall,
  PseudoSrc,
  pseudoImm,
  slots,
  splitImm,
} from '@ebpf/asm';
import { InsnClass, JmpOp } from '@ebpf/uapi';
import { STB_LOCAL, STT_FUNC, STT_SECTION } from './elf/constants.ts';
import type { ElfRelocation, ElfSection } from './elf/elf.ts';
import { ObjectError } from './errors.ts';
import type { ObjectFile } from './object-file.ts';
import type { ExternSpec } from './spec.ts';

/** `call` (helper, BPF-to-BPF or kfunc by its src). */
export const CALL = InsnClass.Jmp | JmpOp.Call;
/** Bytes of one instruction slot. */
export const SLOT = 8;

/** Where a call or function address leads: a slot of a code section. */
export interface CodeTarget {
  readonly section: number;
  readonly slot: number;
}

/** A function (STT_FUNC symbol) of a code section. */
export interface CodeFunction {
  readonly name: string;
  readonly code: CodeSection;
  /** Index of its first instruction in the section's instructions. */
  readonly first: number;
  /** Index after its last instruction. */
  readonly end: number;
  readonly global: boolean;
}

export interface CodeSection {
  readonly section: ElfSection;
  readonly instructions: readonly Instruction[];
  /** The 8-byte slot each instruction starts at. */
  readonly slots: readonly number[];
  readonly functions: readonly CodeFunction[];
  /** Instruction index → what its call or function address leads to. */
  readonly targets: ReadonlyMap<number, CodeTarget>;
  /** Instruction index → the extern variable it loads. */
  readonly externs: ReadonlyMap<number, string>;
  /** Instruction index → why it cannot be relocated. */
  readonly problems: ReadonlyMap<number, string>;
  /** Slot → instruction index (-1 inside an `lddw`). */
  indexOfSlot(slot: number): number;
}

/** Reads one code section of `object`; `externs` say how extern symbols resolve. */
export function readCode(
  object: ObjectFile,
  section: ElfSection,
  externs: ReadonlyMap<string, ExternSpec>,
): CodeSection {
  const instructions = decodeSection(object, section);
  const slotOf: number[] = [];
  const bySlot = new Int32Array(section.size / SLOT).fill(-1);
  let slot = 0;
  instructions.forEach((insn, index) => {
    slotOf.push(slot);
    bySlot[slot] = index;
    slot += slots(insn);
  });
  const targets = new Map<number, CodeTarget>();
  const externRefs = new Map<number, string>();
  const problems = new Map<number, string>();
  const relocated = new Set<number>();

  for (const rel of object.relocations(section)) {
    const index = rel.offset % SLOT === 0 ? (bySlot[rel.offset / SLOT] ?? -1) : -1;
    if (index < 0)
      throw new ObjectError(`relocation at offset ${rel.offset} does not point at an instruction`, {
        section: section.name,
      });
    relocated.add(index);
    const insn = instructions[index] as Instruction;
    const outcome = relocate(object, rel, insn, externs);
    if (typeof outcome === 'string') problems.set(index, outcome);
    else {
      instructions[index] = outcome.insn;
      if (outcome.target) targets.set(index, outcome.target);
      if (outcome.extern !== undefined) externRefs.set(index, outcome.extern);
    }
  }
  // Calls to a static function of the same section need no relocation: imm is relative.
  instructions.forEach((insn, index) => {
    if (relocated.has(index)) return;
    if (insn.op === CALL && insn.src === PseudoCall.Call)
      targets.set(index, {
        section: section.index,
        slot: (slotOf[index] as number) + (insn.imm as number) + 1,
      });
    else if (isLddw(insn.op) && insn.src === PseudoSrc.Func)
      problems.set(index, 'takes a function address but has no relocation saying which function');
  });

  const functions: CodeFunction[] = [];
  const code: CodeSection = {
    section,
    instructions,
    slots: slotOf,
    functions,
    targets,
    externs: externRefs,
    problems,
    indexOfSlot: (at) => bySlot[at] ?? -1,
  };
  // Functions point back at their section, so they are made once it exists.
  functions.push(...functionsOf(object, code, bySlot, instructions.length));
  return code;
}

function decodeSection(object: ObjectFile, section: ElfSection): Instruction[] {
  try {
    return decode(object.elf.data(section), { byteOrder: object.elf.littleEndian ? 'little' : 'big' });
  } catch (cause) {
    const at = (cause as { offset?: number }).offset;
    throw new ObjectError(
      `holds no valid eBPF code: ${(cause as Error).message}`,
      { section: section.name, instruction: at === undefined ? undefined : at / SLOT },
      { cause },
    );
  }
}

function functionsOf(
  object: ObjectFile,
  code: CodeSection,
  bySlot: Int32Array,
  count: number,
): CodeFunction[] {
  const { section } = code;
  const out: CodeFunction[] = [];
  for (const symbol of object.symbols) {
    if (symbol.sectionIndex !== section.index || symbol.type !== STT_FUNC) continue;
    const start = Number(symbol.value);
    const size = Number(symbol.size);
    if (size === 0) continue; // a label-like symbol, no code of its own
    if (start % SLOT !== 0 || size % SLOT !== 0 || start + size > section.size) {
      throw new ObjectError(
        `function ${symbol.name} (${size} bytes at ${start}) is not whole instructions inside the section`,
        { section: section.name },
      );
    }
    const first = bySlot[start / SLOT] ?? -1;
    const endSlot = (start + size) / SLOT;
    const end = endSlot === bySlot.length ? count : (bySlot[endSlot] ?? -1);
    if (first < 0 || end < 0)
      throw new ObjectError(`function ${symbol.name} starts or ends inside an lddw`, {
        section: section.name,
      });
    out.push({ name: symbol.name, code, first, end, global: symbol.binding !== STB_LOCAL });
  }
  return out.sort((a, b) => a.first - b.first);
}

/**
 * An `lddw` (as decoded: op, registers, offset, imm) turned into a reference to `map`, at
 * `offset` into its value for `BPF_PSEUDO_MAP_VALUE`. Spelled out, not spread: one object
 * shape for every relocated instruction.
 */
function mapReference(insn: Instruction, src: number, offset: number | undefined, map: string): Instruction {
  const imm = offset ? pseudoImm(0, offset) : 0n;
  return { op: insn.op, dst: insn.dst, src, off: insn.off, imm, map };
}

interface Relocated {
  insn: Instruction;
  target?: CodeTarget;
  extern?: string;
}

/** The relocated instruction, or why it cannot be relocated. */
function relocate(
  object: ObjectFile,
  rel: ElfRelocation,
  insn: Instruction,
  externs: ReadonlyMap<string, ExternSpec>,
): Relocated | string {
  const symbol = object.symbols[rel.symbol];
  if (symbol === undefined || rel.symbol === 0)
    return `relocation against symbol #${rel.symbol}, which does not exist`;
  const isCall = insn.op === CALL;
  if (!isCall && !isLddw(insn.op))
    return `relocation against ${symbol.name || 'a section'} on an instruction that is neither call nor lddw`;
  const target = object.sectionOf(symbol);
  if (target === undefined) {
    const extern = externs.get(symbol.name);
    if (symbol.name === '' || extern === undefined)
      return `refers to '${symbol.name}', which is not defined here nor an extern of .kconfig or .ksyms (declare it __kconfig or __ksym)`;
    if (isCall) {
      if (extern.kind !== 'ksym') return `calls '${symbol.name}', a .kconfig variable`;
      return {
        insn: {
          op: insn.op,
          dst: insn.dst,
          src: PseudoCall.KfuncCall,
          off: insn.off,
          imm: 0,
          kfunc: symbol.name,
        },
      };
    }
    if (extern.kind === 'kconfig') {
      return {
        insn: mapReference(insn, PseudoSrc.MapValue, extern.offset ?? 0, '.kconfig'),
        extern: symbol.name,
      };
    }
    return { insn, extern: symbol.name };
  }
  const lo = isCall ? (insn.imm as number) : splitImm(insn.imm as bigint)[0];
  const value = Number(symbol.value);
  switch (object.role(target)) {
    case 'code':
      if (isCall) {
        if (insn.src !== PseudoCall.Call)
          return 'relocation against code on a call that is not a BPF-to-BPF call';
        return { insn, target: { section: target.index, slot: value / SLOT + lo + 1 } };
      }
      if ((value + lo) % SLOT !== 0)
        return `function address ${value + lo} in ${target.name} is not an instruction`;
      return {
        insn: { op: insn.op, dst: insn.dst, src: PseudoSrc.Func, off: insn.off, imm: insn.imm },
        target: { section: target.index, slot: (value + lo) / SLOT },
      };
    case 'btf_maps':
    case 'legacy_maps': {
      const name =
        symbol.name !== '' && symbol.type !== STT_SECTION ? symbol.name : object.objectAt(target, lo)?.name;
      if (isCall || name === undefined)
        return `refers to offset ${value + lo} of ${target.name}, where no map is defined`;
      return { insn: mapReference(insn, PseudoSrc.MapFd, undefined, name) };
    }
    case 'data':
      if (isCall) return `calls into the data section ${target.name}`;
      return { insn: mapReference(insn, PseudoSrc.MapValue, value + lo, target.name) };
    default:
      return `refers to section ${target.name}, which holds no code, map or global data`;
  }
}
